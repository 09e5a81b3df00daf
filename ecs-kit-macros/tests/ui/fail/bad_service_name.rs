fn main() {
    let _uppercase: ecs_kit::Service = ecs_kit::service! {
        name: "Product_Web",
        image: "registry.example.com/shop/product-web:1.4",
        port: 8000,
    };
    let _underscore: ecs_kit::Service = ecs_kit::service! {
        name: "product_web",
        image: "registry.example.com/shop/product-web:1.4",
        port: 8000,
    };
    let _too_long: ecs_kit::Service = ecs_kit::service! {
        name: "a-name-of-sixty-five-characters-is-one-more-than-the-limit-of-64x",
        image: "registry.example.com/shop/product-web:1.4",
        port: 8000,
    };
    let _empty: ecs_kit::Service = ecs_kit::service! {
        name: "",
        image: "registry.example.com/shop/product-web:1.4",
        port: 8000,
    };
}
