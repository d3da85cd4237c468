//! A machine without terraform gets a loud error naming it, never a silently skipped test.
//! (Its own test binary: it sets an environment variable.)

#[test]
fn a_missing_terraform_is_an_error_that_names_it() {
    std::env::set_var("DRKIT_TERRAFORM", "/nonexistent/terraform");
    let err = drkit_testkit::tools::terraform().unwrap_err().to_string();
    assert!(
        err.contains("DRKIT_TERRAFORM=/nonexistent/terraform does not exist"),
        "{err}"
    );

    std::env::remove_var("DRKIT_TERRAFORM");
    std::env::set_var("PATH", "/nonexistent");
    let err = drkit_testkit::tools::terraform().unwrap_err().to_string();
    assert!(err.contains("no `terraform` on PATH"), "{err}");
}
