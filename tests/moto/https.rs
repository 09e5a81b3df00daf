//! HTTPS and host routing on moto: the example stack with `--certificate` (twice: the
//! default certificate and a listener certificate) and `--host`, applied, planned
//! again with the same knobs (no changes), then destroyed to nothing.
//!
//! moto's ELBv2 looks ACM certificates up in its ACM; IAM server certificates are made
//! here through the IAM SDK client (a certificate body is not checked by moto).

use ecs_kit::cli::{self, StackKnobs};
use ecs_kit::StackBuilder;

use super::harness::{clients, sdk_config, unique_stack};
use super::plan::seed;

/// Runs `args` with the example's knobs on `stack`: exit code, stdout and stderr.
pub(super) fn run<S: AsRef<str>>(args: &[S], stack: StackBuilder) -> (u8, String, String) {
    let mut parsed =
        cli::parse::<StackKnobs, _, _>(std::iter::once("product-web").chain(args.iter().map(AsRef::as_ref)))
            .expect("valid arguments");
    parsed.interactive = Some(false);
    parsed.colour = Some(false);
    let stack = parsed.verb.knobs().apply(stack);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = cli::execute_with(&parsed, stack, Some(clients()), &mut out, &mut err).unwrap_or_else(|e| {
        err.extend(format!("error: {e}").bytes());
        1
    });
    (code, String::from_utf8(out).unwrap(), String::from_utf8(err).unwrap())
}

/// An IAM server certificate named `name` on the emulator; its ARN.
fn server_certificate(name: &str) -> String {
    let iam = aws_sdk_iam::Client::new(&sdk_config());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let out = iam
            .upload_server_certificate()
            .server_certificate_name(name)
            .certificate_body("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----")
            .private_key("-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----")
            .send()
            .await
            .expect("UploadServerCertificate");
        out.server_certificate_metadata().expect("metadata").arn().to_owned()
    })
}

#[test]
fn the_example_with_certificates_and_a_host_applies_plans_no_changes_and_destroys_to_nothing() {
    let name = unique_stack("https");
    let default = server_certificate(&format!("{name}-default"));
    let extra = server_certificate(&format!("{name}-extra"));
    let image = "registry.example.com/microservices/products:latest";
    let knobs =
        ["--certificate", default.as_str(), "--certificate", extra.as_str(), "--host", "products=api.example.com"];
    let with = |verb: &[&str]| -> Vec<String> { verb.iter().chain(knobs.iter()).map(|s| (*s).to_owned()).collect() };

    let apply = with(&["apply", "--auto-approve"]);
    let (code, out, err) = run(&apply, seed(&name, image));
    assert_eq!(code, 0, "{out}{err}");
    // 41 of the plain stack, the HTTPS listener and one listener certificate.
    assert!(out.contains("Plan: 43 to add, 0 to change, 0 to replace, 0 to destroy."), "{out}");
    assert!(out.contains("Apply: 43 done, 0 failed, 0 skipped."), "{out}");

    let plan = with(&["plan", "--detailed-exitcode"]);
    let (code, out, err) = run(&plan, seed(&name, image));
    assert_eq!(code, 0, "the same knobs plan no changes:\n{out}{err}");

    let outputs = with(&["outputs", "--json"]);
    let (code, out, err) = run(&outputs, seed(&name, image));
    assert_eq!(code, 0, "{err}");
    let o: serde_json::Value = serde_json::from_str(&out).unwrap();
    let dns = o["dns_name"].as_str().unwrap();
    assert_eq!(o["url"], format!("https://{dns}/"));
    assert_eq!(o["services"][1]["url"], "https://api.example.com/products");

    // Without the extra certificate: only the listener certificate goes.
    let one = ["plan", "--detailed-exitcode", "--certificate", default.as_str(), "--host", "products=api.example.com"];
    let (code, out, err) = run(&one, seed(&name, image));
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.contains("Plan: 0 to add, 0 to change, 0 to replace, 1 to destroy."), "{out}");

    let destroy = with(&["destroy", "--auto-approve", "--delete-data"]);
    let (code, out, err) = run(&destroy, seed(&name, image));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Destroy: 43 to destroy"), "{out}");
    let (code, out, _) = run(&destroy, seed(&name, image));
    assert_eq!((code, out.as_str()), (0, "\nDestroy: 0 to destroy.\n"), "nothing of the stack is left");
}
