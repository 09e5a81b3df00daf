//! Diff on plain data: the live side is what observe returns for a stack ecs-kit created.

use std::collections::BTreeMap;

use super::*;
use crate::dsl::{Cluster, Network, Service, StackBuilder};
use crate::graph::props::{AvailabilityZone, ImageSource, ServiceProps, TargetGroupProps};
use crate::graph::Properties;
use crate::model::seed;

fn graph(b: StackBuilder) -> Graph {
    Graph::from_stack(&b.build().unwrap()).unwrap()
}

/// What observe reads for a stack created from `g`: the same properties and tags.
fn live_of(g: &Graph) -> LiveStack {
    LiveStack {
        stack: g.stack.clone(),
        resources: g
            .resources()
            .iter()
            .map(|r| LiveResource {
                id: r.id.clone(),
                resource_type: r.resource_type,
                aws_id: format!("aws-{}", r.id),
                arn: None,
                state: None,
                properties: r.properties.clone(),
                tags: r.tags.clone(),
                attrs: BTreeMap::new(),
            })
            .collect(),
        conflicts: vec![],
        services: BTreeMap::new(),
    }
}

fn actions(changes: &[Change]) -> Vec<(String, Action, String)> {
    changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .map(|c| (c.id.to_string(), c.action, c.reason.clone()))
        .collect()
}

fn edit(live: &mut LiveStack, id: &str, f: impl FnOnce(&mut Properties)) {
    f(std::sync::Arc::make_mut(&mut live.resources.iter_mut().find(|r| r.id.as_str() == id).unwrap().properties));
}

#[test]
fn an_unchanged_stack_is_all_no_op() {
    let g = graph(seed());
    let changes = diff(&g, &live_of(&g), &Context::default());
    assert_eq!(changes.len(), g.resources().len());
    assert_eq!(actions(&changes), vec![]);
}

#[test]
fn nothing_live_is_all_create_in_dependency_order() {
    let g = graph(seed());
    let empty = LiveStack { stack: g.stack.clone(), resources: vec![], conflicts: vec![], services: BTreeMap::new() };
    let changes = diff(&g, &empty, &Context::default());
    assert!(changes.iter().all(|c| c.action == Action::Create && c.reason == "not found in AWS"));
    let order: Vec<&LogicalId> = changes.iter().map(|c| &c.id).collect();
    let graph_order: Vec<&LogicalId> = g.resources().iter().map(|r| &r.id).collect();
    assert_eq!(order, graph_order);
}

#[test]
fn an_image_change_is_one_new_revision_and_one_service_update() {
    let g = graph(seed());
    let live = live_of(&g);
    let changed = graph(crate::model::seed_with_image("products", "registry.example.com/microservices/products:2.0"));
    let changes = diff(&changed, &live, &Context::default());
    assert_eq!(
        actions(&changes),
        vec![
            ("task-definition/products".into(), Action::Update, "image changed".into()),
            ("service/products".into(), Action::Update, "task definition changed".into()),
        ]
    );
    let td = changes.iter().find(|c| c.id.as_str() == "task-definition/products").unwrap();
    assert_eq!(td.fields.len(), 1);
    assert_eq!(td.fields[0].path, "container_definitions[0].image");
    assert_eq!(td.fields[0].old, "registry.example.com/microservices/products:latest");
    assert_eq!(td.fields[0].new, "registry.example.com/microservices/products:2.0");
    let svc = changes.iter().find(|c| c.id.as_str() == "service/products").unwrap();
    assert_eq!(svc.fields[0].path, "task_definition");
    assert_eq!(svc.fields[0].new, serde_json::json!({"ref": "task-definition/products", "attr": "arn"}));
}

#[test]
fn a_removed_service_deletes_its_resources_and_nothing_else() {
    let before = graph(seed());
    let after = graph(crate::model::seed_without("products"));
    let changes = diff(&after, &live_of(&before), &Context::default());
    let got = actions(&changes);
    let deleted: Vec<&str> = got
        .iter()
        .map(|(id, a, _)| {
            assert_eq!(*a, Action::Delete, "{id}");
            id.as_str()
        })
        .collect();
    assert_eq!(
        deleted,
        [
            // The one delete order (the kinds' delete ranks), ids as tie-break.
            "service/products",
            "listener-rule/products",
            "task-definition/products",
            "target-group/products",
            "role/task/products",
            "access-point/products",
            "log-group/products",
        ],
        "dependents first"
    );
}

#[test]
fn an_immutable_field_replaces_and_cascades_to_what_refers_to_it() {
    let g = graph(seed());
    let mut live = live_of(&g);
    edit(&mut live, "target-group/products", |p| {
        let Properties::TargetGroup(TargetGroupProps { port, .. }) = p else { panic!() };
        *port = 9000;
    });
    let got = actions(&diff(&g, &live, &Context::default()));
    // A target group's name is unique: the old one goes first, and what holds on to it
    // (the rule forwarding to it, the service registering in it) goes before it and is
    // re-created after it.
    let first = "; the old one is deleted first";
    assert_eq!(
        got,
        [
            ("target-group/products".into(), Action::Replace, format!("port cannot change in place{first}")),
            (
                "listener-rule/products".into(),
                Action::Replace,
                format!("refers to target-group/products, which is replaced{first}")
            ),
            (
                "service/products".into(),
                Action::Replace,
                format!("refers to target-group/products, which is replaced{first}: traffic is interrupted until the new one is up")
            ),
        ]
    );
    let changes = diff(&g, &live, &Context::default());
    assert!(changes.iter().filter(|c| c.action == Action::Replace).all(|c| c.delete_first));

    // An access point can stand beside its successor: the new one is made first, and
    // what names it (the task definition, the task role's policy) merely changes.
    let mut live = live_of(&g);
    edit(&mut live, "access-point/products", |p| {
        let Properties::AccessPoint(a) = p else { panic!() };
        a.posix_user.uid = 0;
    });
    let changes = diff(&g, &live, &Context::default());
    let got: Vec<(String, Action, bool)> = changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .map(|c| (c.id.to_string(), c.action, c.delete_first))
        .collect();
    assert_eq!(
        got,
        [
            ("access-point/products".into(), Action::Replace, false),
            ("role/task/products".into(), Action::Update, false),
            ("task-definition/products".into(), Action::Update, false),
            ("service/products".into(), Action::Update, false),
        ]
    );
    assert_eq!(
        changes.iter().find(|c| c.action == Action::Replace).unwrap().reason,
        "posix user cannot change in place; the new one is created first"
    );
}

#[test]
fn counts_owned_elsewhere_are_not_fought() {
    let external = graph(seed().service(Service::new("w", "busybox", 1).external_count(2)));
    let mut live = live_of(&external);
    edit(&mut live, "service/w", |p| {
        let Properties::Service(ServiceProps { desired_count, .. }) = p else { panic!() };
        *desired_count = 7;
    });
    edit(&mut live, "autoscaling-group", |p| {
        let Properties::AutoScalingGroup(a) = p else { panic!() };
        a.desired_capacity = 4;
    });
    assert_eq!(actions(&diff(&external, &live, &Context::default())), vec![]);

    let fixed = graph(
        seed()
            .service(Service::new("w", "busybox", 1).count(2))
            .cluster(Cluster::ec2("t3.small").managed_scaling(false)),
    );
    let mut live = live_of(&fixed);
    edit(&mut live, "service/w", |p| {
        let Properties::Service(ServiceProps { desired_count, .. }) = p else { panic!() };
        *desired_count = 7;
    });
    edit(&mut live, "autoscaling-group", |p| {
        let Properties::AutoScalingGroup(a) = p else { panic!() };
        a.desired_capacity = 4;
    });
    let got = actions(&diff(&fixed, &live, &Context::default()));
    assert_eq!(
        got,
        vec![
            ("autoscaling-group".into(), Action::Update, "desired capacity changed".into()),
            ("service/w".into(), Action::Update, "desired count changed".into()),
        ]
    );
}

#[test]
fn zones_by_index_and_kept_amis_compare_with_what_aws_has() {
    let g = graph(seed());
    let mut live = live_of(&g);
    // AWS reports zone names: zone index 1 is us-west-2b.
    for id in ["subnet/public/0", "subnet/public/1", "subnet/private/0", "subnet/private/1"] {
        edit(&mut live, id, |p| {
            let Properties::Subnet(s) = p else { panic!() };
            let AvailabilityZone::Index { zone_index } = s.availability_zone else { panic!() };
            s.availability_zone = AvailabilityZone::Name(format!("us-west-2{}", ['a', 'b'][usize::from(zone_index)]));
        });
    }
    edit(&mut live, "launch-template", |p| {
        let Properties::LaunchTemplate(t) = p else { panic!() };
        t.image = ImageSource::ImageId("ami-0123456789abcdef0".into());
    });
    // The kept AMI is not replaced by the latest one.
    let ctx = Context {
        zones: vec!["us-west-2a".into(), "us-west-2b".into()],
        latest_ami: Some("ami-0fffffffffffffff0".into()),
    };
    assert_eq!(actions(&diff(&g, &live, &ctx)), vec![]);
    // A subnet placed by zone index keeps its zone, whatever the region lists now; one
    // in a named zone moves to it.
    edit(&mut live, "subnet/public/0", |p| {
        let Properties::Subnet(s) = p else { panic!() };
        s.availability_zone = AvailabilityZone::Name("us-west-2c".into());
    });
    assert_eq!(actions(&diff(&g, &live, &ctx)), vec![]);
    let named = graph(seed().network(Network::new("10.10.0.0/16").zones(["us-west-2a", "us-west-2b"])));
    let got = actions(&diff(&named, &live, &ctx));
    assert_eq!(
        got[0],
        (
            "subnet/public/0".into(),
            Action::Replace,
            "availability zone cannot change in place; the old one is deleted first".into()
        )
    );

    // Following the latest AMI makes a new launch template version.
    let latest = graph(seed().cluster(Cluster::ec2("t3.small").ami(crate::AmiPolicy::Latest)));
    let mut live = live_of(&latest);
    edit(&mut live, "launch-template", |p| {
        let Properties::LaunchTemplate(t) = p else { panic!() };
        t.image = ImageSource::ImageId("ami-0123456789abcdef0".into());
    });
    let got =
        actions(&diff(&latest, &live, &Context { zones: vec![], latest_ami: Some("ami-0fffffffffffffff0".into()) }));
    assert_eq!(got, vec![("launch-template".into(), Action::Update, "image changed".into())]);
}

#[test]
fn secret_looking_variables_are_masked_and_tags_are_diffed() {
    let g = graph(
        seed().service(Service::new("w", "busybox", 1).env("DB_PASSWORD", "new").env("LEVEL", "2")).tag("team", "shop"),
    );
    let old = graph(seed().service(Service::new("w", "busybox", 1).env("DB_PASSWORD", "old").env("LEVEL", "1")));
    let changes = diff(&g, &live_of(&old), &Context::default());
    let td = changes.iter().find(|c| c.id.as_str() == "task-definition/w").unwrap();
    let by_path: BTreeMap<&str, (&serde_json::Value, &serde_json::Value)> =
        td.fields.iter().map(|f| (f.path.as_str(), (&f.old, &f.new))).collect();
    assert_eq!(
        by_path["container_definitions[0].environment[0].value"],
        (&"(sensitive)".into(), &"(sensitive)".into())
    );
    assert_eq!(by_path["container_definitions[0].environment[2].value"], (&"1".into(), &"2".into()));
    let vpc = changes.iter().find(|c| c.id.as_str() == "vpc").unwrap();
    assert_eq!((vpc.action, vpc.reason.as_str()), (Action::Update, "tags changed"));
    assert_eq!(
        vpc.fields,
        vec![FieldChange { path: "tags.team".into(), old: serde_json::Value::Null, new: "shop".into() }]
    );
}

#[test]
fn moving_a_service_to_fargate_replaces_what_must_go_and_says_why() {
    let live = live_of(&graph(seed()));
    let fargate = graph(seed().with_service("test", "products", Service::fargate));
    let got = actions(&diff(&fargate, &live, &Context::default()));
    let find = |id: &str| got.iter().find(|(i, ..)| i == id).unwrap_or_else(|| panic!("{id} unchanged: {got:?}"));
    let first = "; the old one is deleted first";
    assert_eq!(find("target-group/products").1, Action::Replace);
    assert_eq!(find("target-group/products").2, format!("target type cannot change in place{first}"));
    assert_eq!(find("listener-rule/products").1, Action::Replace);
    // The service's own reason comes before the cascade's, and the interruption is said.
    assert_eq!(
        find("service/products").2,
        format!("network mode cannot change in place{first}: traffic is interrupted until the new one is up")
    );
    assert_eq!(find("task-definition/products").1, Action::Update, "a new revision in awsvpc");
    assert!(find("task-definition/products").2.contains("network mode"), "{:?}", find("task-definition/products"));
    assert_eq!(find("security-group/service/products").1, Action::Create);
    // The EC2 service is untouched.
    assert!(got.iter().all(|(i, ..)| !i.ends_with("/product-web")), "{got:?}");

    // And back: the same replacements the other way.
    let back = actions(&diff(&graph(seed()), &live_of(&fargate), &Context::default()));
    let find = |id: &str| back.iter().find(|(i, ..)| i == id).unwrap_or_else(|| panic!("{id} unchanged: {back:?}"));
    assert_eq!(find("target-group/products").1, Action::Replace);
    assert!(find("service/products").2.starts_with("network mode cannot change in place"));
    assert_eq!(find("security-group/service/products").1, Action::Delete);
}

#[test]
fn an_autoscaled_count_is_the_autoscalers() {
    let g = graph(seed().with_service("test", "products", |s| s.autoscale(2, 6)));
    let mut live = live_of(&g);
    // The autoscaler moved the service to 5 tasks.
    edit(&mut live, "service/products", |p| {
        let Properties::Service(ServiceProps { desired_count, .. }) = p else { panic!() };
        *desired_count = 5;
    });
    assert_eq!(actions(&diff(&g, &live, &Context::default())), vec![], "ecs-kit does not reset the count");
    // Its bounds are the stack's.
    edit(&mut live, "scalable-target/products", |p| {
        let Properties::ScalableTarget(t) = p else { panic!() };
        t.max_capacity = 10;
    });
    assert_eq!(
        actions(&diff(&g, &live, &Context::default())),
        vec![("scalable-target/products".into(), Action::Update, "max capacity changed".into())]
    );
}
