// Every error is reported, not only the first one.
fn main() {
    let _service: ecs_kit::Service = ecs_kit::service! {
        name: "9lives",
        port: 0,
        path: "",
        env: { "bad name" => "x", "OK" => "y" },
        secrets: { "OK" => ecs_kit::Secret::ssm("/prod/ok") },
        colour: "blue",
        external_count: 1,
        count: 2,
        path: "/again",
    };
}
