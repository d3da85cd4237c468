use terraform_provider_dr::provider::DrProvider;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tf_provider::serve("dr", DrProvider::new()).await
}
