//! Deployment operations on the fake cloud (issue #13): an image owned by the pipeline
//! kept across applies, `rollback`, `verify` and `logs`, through the command line.

use crate::aws::{ServiceUpdate, Tags};
use crate::cli::{self, CliError, NoKnobs};
use crate::dsl::{Secret, StackBuilder};
use crate::graph::Graph;
use crate::model::seed;
use crate::testing::{FakeCloud, Timing};

const FIRST: &str = "registry.example.com/microservices/products:1.0";
const CI: &str = "registry.example.com/microservices/products:ci-42";
const FAMILY: &str = "mcsv-poc-products";

fn cloud() -> FakeCloud {
    FakeCloud::new("us-west-2").with_timing(Timing::instant())
}

/// Runs `args` on `stack` against `cloud` without a person at a terminal: the result,
/// stdout and stderr.
fn run(args: &[&str], stack: StackBuilder, cloud: &FakeCloud) -> (Result<u8, CliError>, String, String) {
    let mut cli =
        cli::parse::<NoKnobs, _, _>(std::iter::once("x").chain(args.iter().copied())).expect("valid arguments");
    cli.interactive = Some(false);
    cli.colour = Some(false);
    cli.signals = Some(false);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let result = cli::execute_with(&cli, stack, Some(cloud.clients()), &mut out, &mut err);
    (result, String::from_utf8(out).unwrap(), String::from_utf8(err).unwrap())
}

fn ok(args: &[&str], stack: StackBuilder, cloud: &FakeCloud) -> String {
    let (result, out, err) = run(args, stack, cloud);
    assert_eq!(result.map_err(|e| e.to_string()), Ok(0), "{args:?}:\n{out}{err}");
    out
}

/// The calls that are not reads.
fn writes(cloud: &FakeCloud) -> Vec<String> {
    let reads = ["Describe", "List", "Get", "Filter"];
    cloud.call_log().into_iter().filter(|op| !reads.iter().any(|r| op.starts_with(r))).collect()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

/// What a CI job does out of band: a new revision of the family with `image` (with the
/// family's tags, as `describe-task-definition --include TAGS` copies them, or none),
/// and the service moved to it.
fn ci_deploys(cloud: &FakeCloud, image: &str, tagged: bool) -> String {
    let clients = cloud.clients();
    runtime().block_on(async {
        let td = clients.ecs.describe_task_definition(FAMILY.into()).await.unwrap().unwrap();
        let mut props = td.props;
        props.container_definitions[0].image = image.to_owned();
        let tags = if tagged { td.tags } else { Tags::new() };
        let arn = clients.ecs.register_task_definition(props, tags).await.unwrap();
        let update = ServiceUpdate {
            cluster: "mcsv-poc".into(),
            service: "products".into(),
            task_definition: Some(arn.clone()),
            ..ServiceUpdate::default()
        };
        clients.ecs.update_service(update).await.unwrap();
        arn
    })
}

/// The image and revision the products service runs.
fn running(cloud: &FakeCloud) -> (String, String) {
    let arn = cloud.service("products").unwrap().task_definition;
    let clients = cloud.clients();
    let td = runtime().block_on(clients.ecs.describe_task_definition(arn.clone())).unwrap().unwrap();
    (td.props.container_definitions[0].image.clone(), arn.rsplit('/').next().unwrap().to_owned())
}

fn pipeline(image_env: Option<&str>) -> StackBuilder {
    seed().with_service("test", "products", |s| {
        let s = s.external_image(FIRST);
        match image_env {
            Some(v) => s.env("FEATURE", v),
            None => s,
        }
    })
}

#[test]
fn an_image_the_pipeline_owns_is_kept_by_an_apply_that_changes_something_else() {
    let cloud = cloud();
    ok(&["apply", "--auto-approve"], pipeline(None), &cloud);
    assert_eq!(running(&cloud), (FIRST.to_owned(), format!("{FAMILY}:1")));
    let (_, out, _) = run(&["synth"], pipeline(None), &cloud);
    assert!(out.contains("(image owned by the pipeline)"), "{out}");

    // CI deploys its image; the plan keeps it and says so.
    ci_deploys(&cloud, CI, true);
    let out = ok(&["plan", "--detailed-exitcode"], pipeline(None), &cloud);
    assert!(out.starts_with("No changes"), "{out}");
    assert!(
        out.contains(&format!(
            "keeps image {CI} (owned by the pipeline: the image {FAMILY}:2 runs; declared {FIRST}; pass --image to deploy another)"
        )),
        "{out}"
    );
    let (_, json, _) = run(&["plan", "--json"], pipeline(None), &cloud);
    let plan: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(plan["kept"][0]["id"], "task-definition/products");
    assert_eq!(plan["kept"][0]["value"], CI);

    // An apply that changes an environment variable keeps CI's image.
    let out = ok(&["plan"], pipeline(Some("on")), &cloud);
    assert!(out.contains("~ task-definition/products"), "{out}");
    assert!(out.contains("environment changed"), "{out}");
    assert!(!out.contains("image changed"), "{out}");
    ok(&["apply", "--auto-approve"], pipeline(Some("on")), &cloud);
    assert_eq!(running(&cloud), (CI.to_owned(), format!("{FAMILY}:3")));
    let out = ok(&["plan", "--detailed-exitcode"], pipeline(Some("on")), &cloud);
    assert!(out.starts_with("No changes"), "{out}");

    // An image given explicitly (what `--image` does) is deployed.
    let explicit = || pipeline(Some("on")).with_service("test", "products", |s| s.image(FIRST));
    let out = ok(&["plan"], explicit(), &cloud);
    assert!(out.contains("image changed"), "{out}");
    assert!(!out.contains("keeps image"), "{out}");
    ok(&["apply", "--auto-approve"], explicit(), &cloud);
    assert_eq!(running(&cloud).0, FIRST);

    // A stack-owned image is reverted as before: the declaration wins.
    ci_deploys(&cloud, CI, true);
    let out = ok(&["plan"], explicit(), &cloud);
    assert!(out.contains("image changed"), "{out}");
    // So it is from a revision CI registered without tags: only the pipeline's
    // families take such a revision as theirs.
    ok(&["apply", "--auto-approve"], explicit(), &cloud);
    ci_deploys(&cloud, CI, false);
    let (result, _, _) = run(&["plan", "--detailed-exitcode"], explicit(), &cloud);
    assert_eq!(result.map_err(|e| e.to_string()), Ok(2), "changes");
    ok(&["apply", "--auto-approve"], explicit(), &cloud);
    assert_eq!(running(&cloud).0, FIRST);
}

#[test]
fn the_pipelines_image_is_kept_even_from_a_revision_without_the_stacks_tags() {
    let cloud = cloud();
    ok(&["apply", "--auto-approve"], pipeline(None), &cloud);
    // The deploy action registers revisions without tags.
    ci_deploys(&cloud, CI, false);
    // The revision the service runs is the family's: nothing to change, no new
    // revision, no deployment of the same image.
    let out = ok(&["plan", "--detailed-exitcode"], pipeline(None), &cloud);
    assert!(out.starts_with("No changes"), "{out}");
    assert!(out.contains(&format!("keeps image {CI}")), "{out}");
    cloud.clear_call_log();
    ok(&["apply", "--auto-approve"], pipeline(None), &cloud);
    assert!(writes(&cloud).is_empty(), "{:?}", writes(&cloud));
    assert_eq!(running(&cloud), (CI.to_owned(), format!("{FAMILY}:2")));
    // A change registers a revision with CI's image and the stack's tags.
    ok(&["apply", "--auto-approve"], pipeline(Some("on")), &cloud);
    assert_eq!(running(&cloud), (CI.to_owned(), format!("{FAMILY}:3")));
    let clients = cloud.clients();
    let td = runtime().block_on(clients.ecs.describe_task_definition(FAMILY.into())).unwrap().unwrap();
    assert_eq!(td.tags.get(crate::model::STACK_TAG).map(String::as_str), Some("mcsv-poc"));
    let out = ok(&["plan", "--detailed-exitcode"], pipeline(Some("on")), &cloud);
    assert!(out.starts_with("No changes"), "{out}");
}

/// The example with products on `CI`, its second deploy.
fn second() -> StackBuilder {
    crate::model::seed_with_image("products", CI)
}

/// The example applied with products on `FIRST`, then on `CI`: two revisions of it.
fn deployed_twice(cloud: &FakeCloud) {
    ok(&["apply", "--auto-approve"], crate::model::seed_with_image("products", FIRST), cloud);
    ok(&["apply", "--auto-approve"], second(), cloud);
}

#[test]
fn rollback_puts_a_service_back_on_the_revision_before_its_last_deploy() {
    let cloud = cloud();
    deployed_twice(&cloud);
    assert_eq!(running(&cloud), (CI.to_owned(), format!("{FAMILY}:2")));

    // Unknown services are refused before any call; no terminal: refused, nothing changes.
    cloud.clear_call_log();
    let (result, _, _) = run(&["rollback", "nope", "--auto-approve"], second(), &cloud);
    assert_eq!(
        result.unwrap_err().to_string(),
        "service `nope` is not declared in stack mcsv-poc: give one of product-web, products"
    );
    assert!(cloud.call_log().is_empty(), "{:?}", cloud.call_log());
    let (result, out, _) = run(&["rollback", "products"], second(), &cloud);
    assert!(matches!(result, Err(CliError::NotApproved("rollback"))), "{result:?}");
    assert!(out.contains("~ service/products"), "{out}");
    assert!(out.contains(&format!("{FAMILY}:2 ({CI}) -> {FAMILY}:1 ({FIRST})")), "{out}");
    assert!(writes(&cloud).is_empty(), "{:?}", writes(&cloud));

    let out = ok(&["rollback", "products", "--auto-approve"], second(), &cloud);
    assert!(out.ends_with("Rollback: 1 rolled back, 0 failed, 0 skipped.\n"), "{out}");
    assert_eq!(running(&cloud), (FIRST.to_owned(), format!("{FAMILY}:1")));
    assert_eq!(cloud.parameter("/ecs-kit/mcsv-poc/lock"), None, "the lock was released");
    assert!(cloud.call_log().contains(&"PutParameter".to_owned()), "the lock was taken");

    // The next plan shows the difference from the declaration honestly.
    let (result, out, _) = run(&["plan", "--detailed-exitcode"], second(), &cloud);
    assert_eq!(result.unwrap(), 2, "{out}");
    assert!(out.contains("~ service/products"), "{out}");
    assert!(out.contains("task definition changed"), "{out}");
    assert!(out.contains("task_definition: \"arn:aws:ecs:us-west-2:"), "{out}");
    assert!(out.contains("Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy."), "{out}");

    // Nothing before revision 1: an error naming the service.
    let (result, _, _) = run(&["rollback", "products", "--auto-approve"], second(), &cloud);
    assert_eq!(
        result.unwrap_err().to_string(),
        format!("service products runs {FAMILY}:1, and its family has no earlier revision: nothing to roll back to")
    );
}

#[test]
fn rollback_of_every_service_skips_those_with_nothing_to_go_back_to_and_names_them() {
    let cloud = cloud();
    deployed_twice(&cloud);

    // Only products was deployed twice: it goes back, product-web is skipped, named.
    let out = ok(&["rollback", "--auto-approve"], second(), &cloud);
    assert!(out.contains("~ service/products"), "{out}");
    let web = "service product-web runs mcsv-poc-product-web:1, and its family has no earlier revision";
    let skipped = out.lines().find(|l| l.trim_start().starts_with("service/product-web")).unwrap_or_default();
    assert!(skipped.ends_with(&format!(" skipped: {web}: nothing to roll back to")), "{out}");
    assert!(out.ends_with("Rollback: 1 rolled back, 0 failed, 0 skipped.\n"), "{out}");
    assert_eq!(running(&cloud), (FIRST.to_owned(), format!("{FAMILY}:1")));

    // Named, the same service is an error; with none left to roll back, so is all.
    let (result, _, _) = run(&["rollback", "product-web", "--auto-approve"], second(), &cloud);
    assert_eq!(result.unwrap_err().to_string(), format!("{web}: nothing to roll back to"));
    cloud.clear_call_log();
    let (result, _, _) = run(&["rollback", "--auto-approve"], second(), &cloud);
    let products = format!("service products runs {FAMILY}:1, and its family has no earlier revision");
    assert_eq!(
        result.unwrap_err().to_string(),
        format!("nothing to roll back: {web}: nothing to roll back to; {products}: nothing to roll back to")
    );
    assert!(writes(&cloud).is_empty(), "{:?}", writes(&cloud));
}

#[test]
fn a_deregistered_previous_revision_is_registered_again_and_both_services_roll_back_at_once() {
    let cloud = cloud();
    ok(&["apply", "--auto-approve"], seed(), &cloud);
    let changed =
        || seed().with_service("t", "products", |s| s.image(CI)).with_service("t", "product-web", |s| s.env("X", "1"));
    ok(&["apply", "--auto-approve"], changed(), &cloud);
    deregister_first_products_revision(&cloud);
    assert!(
        cloud.snapshot().revisions(FAMILY).contains(&(1, "INACTIVE".to_owned())),
        "{:?}",
        cloud.snapshot().revisions(FAMILY)
    );
    let out = ok(&["rollback", "--auto-approve"], changed(), &cloud);
    assert!(out.contains("deregistered: registered again as a new revision"), "{out}");
    assert!(out.ends_with("Rollback: 2 rolled back, 0 failed, 0 skipped.\n"), "{out}");
    assert_eq!(
        running(&cloud),
        ("registry.example.com/microservices/products:latest".to_owned(), format!("{FAMILY}:3"))
    );
    assert!(cloud.service("product-web").unwrap().task_definition.ends_with("mcsv-poc-product-web:1"));
}

/// What a cleanup job may do: products' first revision deregistered (INACTIVE).
fn deregister_first_products_revision(cloud: &FakeCloud) {
    let clients = cloud.clients();
    let arn = format!("arn:aws:ecs:us-west-2:123456789012:task-definition/{FAMILY}:1");
    runtime().block_on(clients.ecs.deregister_task_definition(arn)).unwrap();
}

/// A rollback step retried after it registered the deregistered revision again (its
/// service update failed) moves the service to that revision, not to another copy.
#[test]
fn a_retried_rollback_registers_a_deregistered_revision_once() {
    let cloud = cloud();
    deployed_twice(&cloud);
    deregister_first_products_revision(&cloud);
    cloud.fail("UpdateService", crate::aws::ErrorKind::Unavailable, 1);
    let out = ok(&["rollback", "products", "--auto-approve"], second(), &cloud);
    assert!(out.ends_with("Rollback: 1 rolled back, 0 failed, 0 skipped, 1 retries.\n"), "{out}");
    let revisions = cloud.snapshot().revisions(FAMILY);
    assert_eq!(revisions.iter().filter(|(_, status)| status == "ACTIVE").count(), 2, "{revisions:?}");
    assert_eq!(running(&cloud), (FIRST.to_owned(), format!("{FAMILY}:3")));
}

#[test]
fn rollback_fails_at_once_while_another_holds_the_lock() {
    let cloud = cloud();
    ok(&["apply", "--auto-approve"], seed(), &cloud);
    ok(&["apply", "--auto-approve"], crate::model::seed_with_image("products", CI), &cloud);
    let holder = crate::lock::Holder {
        token: "0123456789abcdef0123456789abcdef".into(),
        user: "ci".into(),
        host: "runner-3".into(),
        pid: 4242,
        operation: "apply".into(),
        since: 1_764_620_496,
        version: "0.1.0".into(),
    };
    cloud.set_parameter("/ecs-kit/mcsv-poc/lock", &serde_json::to_string(&holder).unwrap());
    cloud.clear_call_log();
    let (result, _, _) = run(&["rollback", "products", "--auto-approve"], seed(), &cloud);
    let e = result.unwrap_err();
    assert!(e.to_string().starts_with("stack mcsv-poc is locked by ci on runner-3 (process 4242, apply)"), "{e}");
    assert_eq!(writes(&cloud), ["PutParameter"], "the refused lock write is the only write");
    assert_eq!(running(&cloud).0, CI);
}

fn with_secret() -> StackBuilder {
    seed().with_service("t", "products", |s| s.secret("DB_PASSWORD", Secret::ssm("/shop/db")))
}

#[test]
fn verify_checks_the_deployed_stack_with_reads_only_and_names_a_failing_check() {
    let cloud = cloud();
    cloud.set_parameter("/shop/db", "s3cret");
    ok(&["apply", "--auto-approve"], with_secret(), &cloud);
    cloud.clear_call_log();
    let out = ok(&["verify"], with_secret(), &cloud);
    assert!(writes(&cloud).is_empty(), "verify changes nothing: {:?}", writes(&cloud));
    for line in [
        "  ✓ role/execution trusts ecs-tasks.amazonaws.com\n",
        "  ✓ role/task/products trusts ecs-tasks.amazonaws.com\n",
        "  ✓ products secret DB_PASSWORD (/shop/db) exists\n",
        "  ✓ role/execution may read products secret DB_PASSWORD: ssm:GetParameters on arn:aws:ssm:us-west-2:123456789012:parameter/shop/db\n",
        "  ✓ products log group exists: /ecs/mcsv-poc/products\n",
        "  ✓ products target group port matches container port 8001: ",
        "  - products image registry.example.com/microservices/products:latest exists: not checked: ",
    ] {
        assert!(out.contains(line), "{line}\n{out}");
    }
    assert!(!out.contains("s3cret"), "{out}");
    assert!(out.ends_with(" passed, 0 failed, 2 not checked.\n"), "{out}");

    // A trust policy changed behind the stack's back, and a secret deleted.
    let clients = cloud.clients();
    let role =
        Graph::from_stack(&with_secret().build().unwrap()).unwrap().get("role/task/products").unwrap().name.clone();
    let ec2 = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    let rt = runtime();
    rt.block_on(clients.iam.update_assume_role_policy(role, ec2)).unwrap();
    rt.block_on(clients.ssm.delete_parameter("/shop/db".into())).unwrap();
    cloud.clear_call_log();
    let (result, out, _) = run(&["verify"], with_secret(), &cloud);
    assert_eq!(result.unwrap(), 1, "{out}");
    assert!(out.contains("  ✗ role/task/products trusts ecs-tasks.amazonaws.com: its trust policy lets ec2.amazonaws.com assume it, not ecs-tasks.amazonaws.com: tasks cannot use it; run apply to restore it\n"), "{out}");
    assert!(
        out.contains("  ✗ products secret DB_PASSWORD (/shop/db) exists: SSM parameter /shop/db does not exist"),
        "{out}"
    );
    assert!(out.ends_with(" passed, 2 failed, 2 not checked.\n"), "{out}");
    assert!(writes(&cloud).is_empty(), "{:?}", writes(&cloud));
    let (result, json, _) = run(&["verify", "--json"], with_secret(), &cloud);
    assert_eq!(result.unwrap(), 1);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["failed"], 2);
    assert!(v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["ok"] == false && c["name"] == "role/task/products trusts ecs-tasks.amazonaws.com"));

    // Nothing deployed: every check fails, naming apply.
    let (result, out, _) = run(&["verify"], with_secret(), &self::cloud());
    assert_eq!(result.unwrap(), 1, "{out}");
    assert!(out.contains("  ✗ role/execution exists: not found in AWS: run apply\n"), "{out}");
}

#[test]
fn logs_prints_the_services_lines_since_a_duration_and_refuses_bad_input_first() {
    let cloud = cloud();
    ok(&["apply", "--auto-approve"], seed(), &cloud);
    let now =
        i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()).unwrap();
    let group = "/ecs/mcsv-poc/products";
    assert!(cloud.put_log_line(group, "products/products/task-b", now - 5 * 60_000, "GET /products 200"));
    assert!(cloud.put_log_line(group, "products/products/task-a", now - 10 * 60_000, "started"));
    assert!(cloud.put_log_line(group, "products/products/task-a", now - 2 * 3_600_000, "old"));
    assert!(cloud.put_log_line("/ecs/mcsv-poc/product-web", "w", now, "not this service"));
    let out = ok(&["logs", "products", "--since", "1h"], seed(), &cloud);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].ends_with("Z products/products/task-a started"), "{out}");
    assert!(lines[1].ends_with("Z products/products/task-b GET /products 200"), "{out}");
    let out = ok(&["logs", "products", "--since", "3h", "--filter", "GET"], seed(), &cloud);
    assert_eq!(out.lines().count(), 1, "{out}");
    let out = ok(&["logs", "products", "--since", "1d"], seed(), &cloud);
    assert_eq!(out.lines().count(), 3, "{out}");

    cloud.clear_call_log();
    let (result, _, _) = run(&["logs", "nope"], seed(), &cloud);
    assert_eq!(
        result.unwrap_err().to_string(),
        "service `nope` is not declared in stack mcsv-poc: give one of product-web, products"
    );
    let e = cli::parse::<NoKnobs, _, _>(["x", "logs", "products", "--since", "soon"]).unwrap_err();
    assert!(
        e.to_string().contains("`soon` is not a duration: write a number and a unit (s, m, h, d), e.g. 10m, 1h, 2d"),
        "{e}"
    );
    assert!(cloud.call_log().is_empty(), "{:?}", cloud.call_log());

    // A service whose log group is gone.
    let clients = cloud.clients();
    runtime().block_on(clients.logs.delete_log_group(group.into())).unwrap();
    let (result, _, _) = run(&["logs", "products"], seed(), &cloud);
    assert_eq!(
        result.unwrap_err().to_string(),
        "the log group /ecs/mcsv-poc/products of service products does not exist: run apply first"
    );
}
