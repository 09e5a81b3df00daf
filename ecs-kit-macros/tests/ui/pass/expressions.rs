// Values that are not literals pass through unchecked: the runtime `build()` checks them.
fn service_for(name: &str, tag: &str, port: u16) -> ecs_kit::Service {
    let image = format!("registry.example.com/shop/{name}:{tag}");
    let path = format!("/{name}");
    ecs_kit::service! {
        name: name,
        image: image,
        port: port,
        count: 1 + 1,
        path: path,
        health_check: format!("/{name}/health"),
        deregistration_delay: std::time::Duration::from_secs(u64::from(port % 60)),
        env: { "SERVICE_PORT" => port.to_string() },
    }
}

macro_rules! web {
    ($name:expr, $port:expr) => {
        ecs_kit::service! { name: $name, image: "registry.example.com/web:1", port: $port }
    };
}

fn main() {
    let _ = service_for("product-web", "1.4", 8000);
    let _ = web!("web", 80);
}
