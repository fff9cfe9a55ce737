//! `check` of an RDS spec: the instance exists, the DR copies' regions answer, the
//! destinations take writes. No PostgreSQL tools or age keys are involved.

use super::snapshot::describe_instance;
use crate::aws::{rds_client as client, rds_error as rds_err};
use crate::method::{preflight, CheckItem};
use crate::spec::{DrillSpec, RdsSource};

pub async fn run(spec: &DrillSpec, src: &RdsSource) -> Vec<CheckItem> {
    let c = client(&src.region, src.endpoint.as_deref()).await;
    let r = describe_instance(&c, src).await.map(|i| {
        format!(
            "RDS instance `{}` in `{}` ({} {})",
            src.instance,
            src.region,
            i.engine().unwrap_or("?"),
            i.engine_version().unwrap_or("?")
        )
    });
    let mut items = vec![CheckItem::from_result("source", r)];
    for copy in &src.copy_to {
        let rc = client(&copy.region, src.endpoint.as_deref()).await;
        let r = rc
            .describe_db_snapshots()
            .db_instance_identifier(&src.instance)
            .max_records(20)
            .send()
            .await
            .map(|_| format!("RDS answers in `{}`", copy.region))
            .map_err(|e| rds_err("cannot list snapshots", &copy.region, e));
        items.push(CheckItem::from_result(
            &format!("copy to {}", copy.region),
            r,
        ));
    }
    items.extend(preflight::destinations(spec).await);
    items
}
