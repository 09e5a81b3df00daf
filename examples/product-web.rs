//! The seed template's two services on its network and cluster.
//!
//! ```text
//! cargo run --example product-web -- synth
//! cargo run --example product-web -- synth --json
//! cargo run --example product-web -- plan --image products=registry.example.com/microservices/products:1.5
//! ECS_KIT_COUNT=product-web=4 cargo run --example product-web -- plan
//! ```

use ecs_kit::{Cluster, FileSystem, LoadBalancer, Network, Service, Stack};

fn main() -> std::process::ExitCode {
    let stack = Stack::builder("mcsv-poc")
        .region("us-west-2")
        .network(Network::new("10.10.0.0/16").availability_zones(2))
        .cluster(Cluster::ec2("t3.small").min_instances(2).max_instances(5).desired_instances(2))
        .load_balancer(LoadBalancer::public())
        .file_system(FileSystem::encrypted())
        .service(
            Service::new("product-web", "registry.example.com/microservices/product-web:latest", 8000)
                .count(2)
                .path("/")
                .health_check("/"),
        )
        .service(
            Service::new("products", "registry.example.com/microservices/products:latest", 8001)
                .count(2)
                .path("/products")
                .health_check("/products")
                .policy("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"),
        );
    // --image SERVICE=REF, --count SERVICE=N, --key-name, --admin-cidr, --internal,
    // --instance-type, --asg-min/--asg-max/--asg-desired, --certificate ARN (repeatable),
    // --host SERVICE=HOST, or ECS_KIT_<FLAG> variables.
    ecs_kit::cli::run_with::<ecs_kit::cli::StackKnobs, _>(|knobs| knobs.apply(stack))
}
