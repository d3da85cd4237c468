# A policy is imported by its name plus the instances and buckets it covers:
#   NAME[:rds=INSTANCE,INSTANCE...][:rds_cluster=CLUSTER,CLUSTER...][:s3=BUCKET,BUCKET...]
# Settings are read from AWS; rpo, rto, compliance, owners and runbook_url from the
# `drkit:targets` tag the provider writes on the policy's resources.
terraform import dr_policy.orders 'orders:rds=orders-db:s3=orders-backups'
