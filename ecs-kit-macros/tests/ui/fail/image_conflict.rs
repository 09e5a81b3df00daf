fn main() {
    let _service: ecs_kit::Service = ecs_kit::service! {
        name: "product-web",
        image: "registry.example.com/shop/product-web:1.4",
        port: 8000,
        external_image: "registry.example.com/shop/product-web:1.4",
    };
}
