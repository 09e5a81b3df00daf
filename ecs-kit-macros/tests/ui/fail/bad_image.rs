// An image literal that can never be a reference is a compile error.
fn main() {
    let _empty: ecs_kit::Service = ecs_kit::service! {
        name: "product-web",
        image: "",
        port: 8000,
    };
    let _spaced: ecs_kit::Service = ecs_kit::service! {
        name: "product-web",
        image: "nginx :1.27",
        port: 8000,
    };
}
