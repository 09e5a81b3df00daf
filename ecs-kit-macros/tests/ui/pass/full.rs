// Every key at once.
const READ_BUCKET: &str = r#"{"Version":"2012-10-17","Statement":[]}"#;

fn main() {
    let service: ecs_kit::Service = ecs_kit::service! {
        name: "product-web",
        image: "registry.example.com/shop/product-web:1.4",
        port: 8000,
        count: 2,
        cpu: 512,
        memory: 1024,
        log_retention_days: 14,
        min_healthy_percent: 100,
        max_percent: 200,
        circuit_breaker: ecs_kit::CircuitBreaker::Rollback,
        path: "/products",
        host: "api.example.com",
        capacity: ecs_kit::Capacity::Fargate,
        autoscaling: ecs_kit::Autoscaling::new(2, 6).cpu(50),
        health_check: ecs_kit::HealthCheck::new("/health").matcher("200-299"),
        deregistration_delay: 10,
        env: {
            "RUST_LOG" => "info",
            "_PRIVATE" => String::from("yes"),
        },
        secrets: {
            "DB_PASSWORD" => ecs_kit::Secret::ssm("/x"),
            "API_KEY" => ecs_kit::Secret::secrets_manager("arn:aws:secretsmanager:us-west-2:123456789012:secret:api"),
        },
        tags: { "team" => "shop", "cost-center" => "42" },
        inline_policies: { "read-bucket" => READ_BUCKET },
        policies: [
            "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
            "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy",
        ],
    };
    let _ = format!("{service:?}");

    // The other count, a `Duration` delay and a health check given as a path.
    let _: ecs_kit::Service = ecs_kit::service! {
        external_count: 3,
        deregistration_delay: std::time::Duration::from_millis(1500),
        health_check: "/",
        port: 65535,
        image: "registry.example.com/shop/worker@sha256:0123",
        name: "w",
    };

    // The other image, owned by a pipeline (an expression, moved once), a strategy and
    // its alarms and hooks.
    let initial = String::from("registry.example.com/shop/api:1.0");
    let _: ecs_kit::Service = ecs_kit::service! {
        name: "api",
        external_image: initial,
        port: 8080,
        path: "/api",
        deployment: ecs_kit::Deployment::blue_green(std::time::Duration::from_secs(300)),
        rollback_alarms: ["api-5xx"],
        lifecycle_hooks: [
            ecs_kit::LifecycleHook::lambda(
                "arn:aws:lambda:us-west-2:123456789012:function:smoke",
                [ecs_kit::HookStage::PostTestTrafficShift],
            ),
        ],
    };
}
