//! Tags from the Resource Groups Tagging API's index: one call for many objects, the
//! objects' own APIs for what it lacks, and never a change on its word alone.

use crate::apply::{apply, ApplyOptions};
use crate::aws::{Clients, ErrorKind};
use crate::graph::ResourceType;
use crate::model::{seed, seed_without, ID_TAG, STACK_TAG};
use crate::testing::{FakeCloud, Timing, ACCOUNT};

/// `seed()` applied on a fake without waits, with the counts reset.
async fn applied() -> (FakeCloud, Clients) {
    let cloud = FakeCloud::new("us-west-2").with_timing(Timing::instant());
    let clients = cloud.clients();
    let stack = seed().build().unwrap();
    let report = apply(&stack, &clients, ApplyOptions::default(), None, &()).await.unwrap();
    assert!(report.report.succeeded(), "{:?}", report.report);
    clients.calls.reset();
    (cloud, clients)
}

fn calls(clients: &Clients, operation: &str) -> u64 {
    clients.calls.snapshot().iter().filter(|c| c.operation == operation).map(|c| c.calls).sum()
}

/// The fake's object of type `t` whose `ecs-kit:id` is `id`.
fn aws_id(cloud: &FakeCloud, t: ResourceType, id: &str) -> String {
    let snapshot = cloud.snapshot();
    let found = snapshot.live(t).find(|r| r.tags.get(ID_TAG).map(String::as_str) == Some(id));
    found.unwrap_or_else(|| panic!("no {id}")).id.clone()
}

#[tokio::test(start_paused = true)]
async fn the_index_gives_the_tags_and_what_it_lacks_is_read_from_its_own_api() {
    // An index that has nothing yet (frozen before the stack existed): every tag is read
    // from its own API, and the plan is the same.
    let cloud = FakeCloud::new("us-west-2").with_timing(Timing::instant());
    cloud.freeze_tag_index();
    let clients = cloud.clients();
    let stack = seed().build().unwrap();
    assert!(apply(&stack, &clients, ApplyOptions::default(), None, &()).await.unwrap().report.succeeded());
    clients.calls.reset();
    let plan = crate::plan::plan(&stack, &clients).await.unwrap();
    assert!(!plan.has_changes(), "{}", plan.render());
    assert_eq!(calls(&clients, "GetResources"), 1);
    assert_eq!(calls(&clients, "ListTagsForResource"), 2, "both log groups: {:?}", clients.calls.snapshot());
    assert_eq!(calls(&clients, "DescribeTags"), 1, "every ELB object in one call");

    // Indexed: the log groups' tags come from it.
    cloud.thaw_tag_index();
    clients.calls.reset();
    let plan = crate::plan::plan(&stack, &clients).await.unwrap();
    assert!(!plan.has_changes(), "{}", plan.render());
    assert_eq!((calls(&clients, "GetResources"), calls(&clients, "ListTagsForResource")), (1, 0));
}

#[tokio::test(start_paused = true)]
async fn without_leave_to_read_the_index_tags_come_from_each_service() {
    let (cloud, clients) = applied().await;
    cloud.fail("GetResources", ErrorKind::AccessDenied, 1);
    let plan = crate::plan::plan(&seed().build().unwrap(), &clients).await.unwrap();
    assert!(!plan.has_changes(), "{}", plan.render());
    assert_eq!(calls(&clients, "ListTagsForResource"), 2, "{:?}", clients.calls.snapshot());

    // Nor when it fails otherwise (an endpoint without it, say): it only saves calls.
    cloud.fail("GetResources", ErrorKind::Invalid, 1);
    clients.calls.reset();
    let plan = crate::plan::plan(&seed().build().unwrap(), &clients).await.unwrap();
    assert!(!plan.has_changes(), "{}", plan.render());
    assert_eq!(calls(&clients, "ListTagsForResource"), 2, "{:?}", clients.calls.snapshot());
}

#[tokio::test(start_paused = true)]
async fn a_change_on_the_index_word_is_confirmed_by_the_object_own_api() {
    let (_cloud, clients) = applied().await;
    // One log group's retention changes: the tags of everything the index vouched for
    // are read again before the plan stands.
    let mut declared = seed();
    for s in &mut declared.services {
        if s.name == "products" {
            *s = s.clone().log_retention_days(90);
        }
    }
    let plan = crate::plan::plan(&declared.build().unwrap(), &clients).await.unwrap();
    let changed: Vec<&str> = plan.changes.iter().filter(|c| c.action.glyph() != " ").map(|c| c.id.as_str()).collect();
    assert_eq!(changed, ["log-group/products"], "{}", plan.render());
    // Both log groups, and the load balancer and target groups in one DescribeTags
    // (the other one is the listener's and rules', which the index lacks).
    assert_eq!(calls(&clients, "ListTagsForResource"), 2, "{:?}", clients.calls.snapshot());
    assert_eq!(calls(&clients, "DescribeTags"), 2, "{:?}", clients.calls.snapshot());
    assert_eq!(calls(&clients, "DescribeLoadBalancers"), 1, "confirmed: not read again");

    // A plan without changes changes nothing: the index's word is enough.
    clients.calls.reset();
    let plan = crate::plan::plan(&seed().build().unwrap(), &clients).await.unwrap();
    assert!(!plan.has_changes(), "{}", plan.render());
    assert_eq!((calls(&clients, "ListTagsForResource"), calls(&clients, "DescribeTags")), (0, 1));
}

#[tokio::test(start_paused = true)]
async fn what_a_change_acts_on_is_confirmed_too_and_a_taken_over_group_stops_the_apply() {
    let (cloud, clients) = applied().await;
    // The index still says the products target group is the stack's; it is not any more.
    cloud.freeze_tag_index();
    let group = aws_id(&cloud, ResourceType::TargetGroup, "target-group/products");
    clients.elb.remove_tags(vec![group.clone()], vec![STACK_TAG.into()]).await.unwrap();
    clients.calls.reset();

    // A new image: the group itself is left as it is, but the service's new tasks would
    // be registered in it. It holds a declared name without the stack's tag: a conflict.
    let image = "registry.example.com/microservices/products:2.0";
    let stack = crate::model::seed_with_image("products", image).build().unwrap();
    let plan = crate::plan::plan(&stack, &clients).await.unwrap();
    let conflicts: Vec<&str> = plan.conflicts.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(conflicts, ["target-group/products"], "{}", plan.render());
    let e = apply(&stack, &clients, ApplyOptions::default(), None, &()).await.unwrap_err();
    assert!(e.to_string().contains("conflict"), "{e}");
    let running = cloud.service("products").unwrap().task_definition;
    assert!(running.ends_with(":1"), "the service was redeployed: {running}");
}

#[tokio::test(start_paused = true)]
async fn what_lost_the_stack_tag_is_never_changed_on_a_lagging_index_word() {
    let (cloud, clients) = applied().await;
    // The index lags: it still says the products service's target group and log group
    // are the stack's when someone has taken them over (removed the stack's tag).
    cloud.freeze_tag_index();
    let group = aws_id(&cloud, ResourceType::TargetGroup, "target-group/products");
    clients.elb.remove_tags(vec![group.clone()], vec![STACK_TAG.into()]).await.unwrap();
    let logs = format!("arn:aws:logs:us-west-2:{ACCOUNT}:log-group:/ecs/mcsv-poc/products");
    clients.logs.untag_resource(logs, vec![STACK_TAG.into()]).await.unwrap();
    clients.calls.reset();

    // The declaration drops the service: the plan deletes its objects, but not those two.
    let without = seed_without("products").build().unwrap();
    let plan = crate::plan::plan(&without, &clients).await.unwrap();
    let deleted: Vec<&str> = plan.changes.iter().filter(|c| c.action.glyph() == "-").map(|c| c.id.as_str()).collect();
    assert!(deleted.contains(&"service/products"), "{}", plan.render());
    assert!(!deleted.contains(&"target-group/products"), "{}", plan.render());
    assert!(!deleted.contains(&"log-group/products"), "{}", plan.render());
    // Read once on the index's word, then again from every API once it proved behind.
    assert_eq!(calls(&clients, "DescribeLoadBalancers"), 2, "{:?}", clients.calls.snapshot());
    assert_eq!(calls(&clients, "GetResources"), 1);

    // The apply (which plans the same way) leaves them where they are.
    let applied = apply(&without, &clients, ApplyOptions::default(), None, &()).await.unwrap();
    assert!(applied.report.succeeded(), "{:?}", applied.report);
    let snapshot = cloud.snapshot();
    assert!(snapshot.live(ResourceType::TargetGroup).any(|r| r.id == group), "the group was deleted");
    assert!(snapshot.live(ResourceType::LogGroup).any(|r| r.id == "/ecs/mcsv-poc/products"));
    let rule =
        |r: &&crate::testing::FakeResource| r.tags.get(ID_TAG).map(String::as_str) == Some("listener-rule/products");
    assert!(!snapshot.live(ResourceType::ListenerRule).any(|r| rule(&r)), "what is still the stack's goes");
}
