//! Issue #12's done criterion on moto: the example stack with `--certificate` (an ACM
//! certificate made on the emulator), `--host products=api.example.com`, `--fargate
//! products` and `--autoscale products=2:6` is applied, planned again with the same
//! knobs (no changes), and destroyed to nothing, its scalable target included.
//!
//! The certificate is requested through the emulator's ACM with boto3 from moto's own
//! venv (no ACM SDK crate just for a test).

use std::process::Command;

use super::harness::{clients, endpoint, python, unique_stack};
use super::https::run;
use super::plan::seed;

/// An ACM certificate for `domain` on the emulator; its ARN.
fn acm_certificate(domain: &str) -> String {
    let script = "import boto3, sys\n\
        acm = boto3.client('acm', region_name='us-west-2', endpoint_url=sys.argv[1],\n\
                           aws_access_key_id='testing', aws_secret_access_key='testing')\n\
        print(acm.request_certificate(DomainName=sys.argv[2])['CertificateArn'])\n";
    let out = Command::new(python()).args(["-c", script, endpoint(), domain]).output().expect("run the venv's python");
    assert!(out.status.success(), "RequestCertificate: {}", String::from_utf8_lossy(&out.stderr));
    let arn = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(arn.starts_with("arn:aws:acm:us-west-2:"), "{arn}");
    arn
}

fn scalable_targets(name: &str) -> usize {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let ids = vec![format!("service/{name}/products"), format!("service/{name}/product-web")];
    runtime.block_on(clients().scaling.describe_scalable_targets(ids)).expect("DescribeScalableTargets").len()
}

#[test]
fn the_example_on_fargate_with_autoscaling_https_and_a_host_applies_plans_no_changes_and_destroys_to_nothing() {
    let name = unique_stack("fargate");
    let certificate = acm_certificate("api.example.com");
    let image = "registry.example.com/microservices/products:latest";
    let knobs = [
        "--certificate",
        certificate.as_str(),
        "--host",
        "products=api.example.com",
        "--fargate",
        "products",
        "--autoscale",
        "products=2:6",
    ];
    let with = |verb: &[&str]| -> Vec<String> { verb.iter().chain(knobs.iter()).map(|s| (*s).to_owned()).collect() };

    let (code, out, err) = run(&with(&["synth"]), seed(&name, image));
    assert_eq!(code, 0, "{out}{err}");
    for part in ["security-group/service/products", "scalable-target/products", "scaling-policy/products/cpu"] {
        assert!(out.contains(part), "synth shows {part}:\n{out}");
    }

    let (code, out, err) = run(&with(&["apply", "--auto-approve"]), seed(&name, image));
    assert_eq!(code, 0, "{out}{err}");
    // 41 of the plain stack; the HTTPS listener; the Fargate service's security group;
    // the scalable target and its CPU policy.
    assert!(out.contains("Plan: 45 to add, 0 to change, 0 to replace, 0 to destroy."), "{out}");
    assert!(out.contains("Apply: 45 done, 0 failed, 0 skipped."), "{out}");
    assert_eq!(scalable_targets(&name), 1);

    let (code, out, err) = run(&with(&["plan", "--detailed-exitcode"]), seed(&name, image));
    assert_eq!(code, 0, "the same knobs plan no changes:\n{out}{err}");

    let (code, out, err) = run(&with(&["destroy", "--auto-approve", "--delete-data"]), seed(&name, image));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Destroy: 45 to destroy"), "{out}");
    assert_eq!(scalable_targets(&name), 0, "the scalable target is deregistered");
    let (code, out, _) = run(&with(&["destroy", "--auto-approve", "--delete-data"]), seed(&name, image));
    assert_eq!((code, out.as_str()), (0, "\nDestroy: 0 to destroy.\n"), "nothing of the stack is left");
}
