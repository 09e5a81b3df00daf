fn main() {
    let _service: ecs_kit::Service = ecs_kit::service! {
        name: "product-web",
        image: "registry.example.com/shop/product-web:1.4",
        port: 8000,
        env: { "DB_PASSWORD" => "hunter2" },
        secrets: { "DB_PASSWORD" => ecs_kit::Secret::ssm("/prod/shop/db-password") },
    };
}
