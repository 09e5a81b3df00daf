fn main() {
    let _too_big: ecs_kit::Service = ecs_kit::service! {
        name: "product-web",
        image: "registry.example.com/shop/product-web:1.4",
        port: 70000,
    };
    let _negative: ecs_kit::Service = ecs_kit::service! {
        name: "product-web",
        image: "registry.example.com/shop/product-web:1.4",
        port: -1,
    };
}
