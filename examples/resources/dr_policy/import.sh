# A policy is imported by its name plus the instances and buckets it covers:
#   NAME[:rds=INSTANCE,INSTANCE...][:s3=BUCKET,BUCKET...]
# Settings are read from AWS; rpo, rto and compliance from the `drkit:targets` tag the
# provider writes. `owners` and `runbook_url` exist only in configuration.
terraform import dr_policy.orders 'orders:rds=orders-db:s3=orders-backups'
