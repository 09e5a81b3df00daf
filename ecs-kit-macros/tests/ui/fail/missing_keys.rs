fn main() {
    let _service: ecs_kit::Service = ecs_kit::service! {
        name: "product-web",
        count: 2,
    };
}
