//! Deployment operations against moto (issue #13): `verify` on the applied example,
//! `logs` printing a line written to the service's log group, and `rollback` after an
//! image change putting the service back on revision 1.

use aws_sdk_cloudwatchlogs::types::InputLogEvent;

use super::harness::{clients, sdk_config, unique_stack};
use super::plan::{run, seed};

const FIRST: &str = "registry.example.com/microservices/products:latest";
const SECOND: &str = "registry.example.com/microservices/products:2.0";

/// The revision (`family:N`) the service `service` of stack `name` runs.
fn revision(name: &str, service: &str) -> String {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let live = runtime.block_on(clients().ecs.describe_services(name.to_owned(), vec![service.to_owned()])).unwrap();
    let ecs_kit::graph::RefOr::Value(arn) = &live[0].found.props.task_definition else { panic!("{live:?}") };
    arn.rsplit('/').next().unwrap().to_owned()
}

#[test]
fn verify_logs_and_rollback_on_the_applied_example() {
    let name = unique_stack("ops");
    let (code, out, err) = run(&["apply", "--auto-approve", "--timeout", "60s"], seed(&name, FIRST));
    assert_eq!(code, 0, "{out}{err}");

    // verify: every check passes, through reads only.
    let (code, out, err) = run(&["verify"], seed(&name, FIRST));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("  ✓ role/task/products trusts ecs-tasks.amazonaws.com\n"), "{out}");
    assert!(out.contains(&format!("  ✓ products log group exists: /ecs/{name}/products\n")), "{out}");
    assert!(out.contains("  ✓ products target group port matches container port 8001: "), "{out}");
    assert!(out.contains(" passed, 0 failed, 2 not checked.\n"), "{out}");

    // logs: a line a task wrote to the service's log group.
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk_config());
    let group = format!("/ecs/{name}/products");
    let stream = "products/products/0123456789abcdef";
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        logs.create_log_stream().log_group_name(&group).log_stream_name(stream).send().await.unwrap();
        let line = InputLogEvent::builder()
            .timestamp(i64::try_from(now).unwrap() - 60_000)
            .message("GET /products 200 in 3 ms")
            .build()
            .unwrap();
        logs.put_log_events().log_group_name(&group).log_stream_name(stream).log_events(line).send().await.unwrap();
    });
    let (code, out, err) = run(&["logs", "products", "--since", "1h"], seed(&name, FIRST));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.ends_with(&format!("Z {stream} GET /products 200 in 3 ms\n")), "{out}");
    let (code, out, _) = run(&["logs", "product-web", "--since", "1h"], seed(&name, FIRST));
    assert_eq!((code, out.as_str()), (0, ""), "another service's group has no lines");

    // An image change, then rollback: products is back on revision 1.
    let (code, out, err) = run(&["apply", "--auto-approve", "--timeout", "60s"], seed(&name, SECOND));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(revision(&name, "products"), format!("{name}-products:2"));
    let (code, out, err) = run(&["rollback", "products", "--auto-approve", "--timeout", "60s"], seed(&name, SECOND));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(&format!("{name}-products:2 ({SECOND}) -> {name}-products:1 ({FIRST})")), "{out}");
    assert!(out.ends_with("Rollback: 1 rolled back, 0 failed, 0 skipped.\n"), "{out}");
    assert_eq!(revision(&name, "products"), format!("{name}-products:1"));
    assert_eq!(revision(&name, "product-web"), format!("{name}-product-web:1"));

    // The next plan shows the difference from the declaration: only the service.
    let (code, out, err) = run(&["plan", "--detailed-exitcode"], seed(&name, SECOND));
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.contains("  ~ service/products"), "{out}");
    assert!(out.contains("Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy."), "{out}");
}
