//! The parts of one run side by side: at most `jobs` at once, the first failure stopping the
//! rest, and that failure (not the "aborted" of the ones it stopped) as the outcome.

use futures_util::future::BoxFuture;
use futures_util::StreamExt;
use tokio_util::sync::CancellationToken;

use crate::{Error, ErrorKind, Result};

/// Runs `tasks`, `jobs` at a time; a failing task cancels `stop`, which the others watch.
/// Returns every output in the order of `tasks`, or the first cause of failure.
///
/// # Errors
/// See [`first_cause`].
pub async fn all_or_stop<'a, T: Send + 'a>(
    jobs: usize,
    stop: &'a CancellationToken,
    tasks: Vec<BoxFuture<'a, Result<T>>>,
) -> Result<Vec<T>> {
    // Unordered, so that a finished task frees its slot at once; sorted back afterwards.
    // (Boxed one by one rather than mapped in the stream: a closure in the stream's type
    // makes the whole future lose `Send` for callers that spawn it.)
    let mut indexed: Vec<BoxFuture<'a, (usize, Result<T>)>> = Vec::with_capacity(tasks.len());
    for (i, task) in tasks.into_iter().enumerate() {
        indexed.push(Box::pin(async move {
            let r = task.await;
            if r.is_err() {
                stop.cancel();
            }
            (i, r)
        }));
    }
    let mut done = futures_util::stream::iter(indexed)
        .buffer_unordered(jobs.max(1))
        .collect::<Vec<_>>()
        .await;
    done.sort_by_key(|(i, _)| *i);
    first_cause(done.into_iter().map(|(_, r)| r))
}

/// All the outputs, or the first error that is not [`ErrorKind::Aborted`] (the cause; the
/// aborted ones were stopped because of it), or else the first aborted one.
///
/// # Errors
/// As described.
pub fn first_cause<T>(results: impl IntoIterator<Item = Result<T>>) -> Result<Vec<T>> {
    let mut out = Vec::new();
    let mut aborted: Option<Error> = None;
    for r in results {
        match r {
            Ok(v) => out.push(v),
            Err(e) if e.kind == ErrorKind::Aborted => {
                aborted.get_or_insert(e);
            }
            Err(e) => return Err(e),
        }
    }
    match aborted {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cause_wins_over_the_aborted() {
        let r = first_cause(vec![
            Err(Error::aborted()),
            Ok(1),
            Err(Error::storage("disk full")),
        ]);
        assert_eq!(r.unwrap_err().message, "disk full");
        assert_eq!(
            first_cause(vec![Ok(1), Err(Error::aborted())])
                .unwrap_err()
                .kind,
            ErrorKind::Aborted
        );
        assert_eq!(first_cause(vec![Ok(1), Ok(2)]).unwrap(), vec![1, 2]);
    }

    #[tokio::test]
    async fn a_failure_stops_the_others_and_order_is_kept() {
        let stop = CancellationToken::new();
        let tasks: Vec<BoxFuture<'_, Result<u32>>> = vec![
            Box::pin(async {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                Ok(1)
            }),
            Box::pin(async { Ok(2) }),
        ];
        assert_eq!(all_or_stop(2, &stop, tasks).await.unwrap(), vec![1, 2]);
        assert!(!stop.is_cancelled());

        let stop = CancellationToken::new();
        let watcher = stop.clone();
        let tasks: Vec<BoxFuture<'_, Result<u32>>> = vec![
            Box::pin(async move {
                watcher.cancelled().await;
                Err(Error::aborted())
            }),
            Box::pin(async { Err(Error::source_db("boom")) }),
        ];
        let err = all_or_stop(2, &stop, tasks).await.unwrap_err();
        assert_eq!(err.message, "boom");
        assert!(stop.is_cancelled());
    }
}
