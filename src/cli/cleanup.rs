use firedrill::{method, Exit, Result};

use super::SpecArgs;

pub async fn run(args: SpecArgs) -> Result<Exit> {
    let spec = args.load()?;
    let outcomes = method::cleanup(&spec).await?;
    let failed = outcomes.iter().any(|o| !o.removed && !o.kept);
    if args.json {
        super::print_json(&outcomes);
    } else if outcomes.is_empty() {
        out!("No scratch targets of `{}` to remove.", spec.name);
    } else {
        for o in &outcomes {
            out!(
                "{} {}",
                if o.removed {
                    "removed:"
                } else {
                    "NOT removed:"
                },
                o.detail
            );
        }
    }
    Ok(if failed {
        Exit::CouldNotRun
    } else {
        Exit::Pass
    })
}
