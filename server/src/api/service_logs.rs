//! The `serviceLogs` subscription: a service's log lines as the daemon
//! sends them (the last `tail`, then each new one), from its target's
//! engine. Bounded by the engine layer (line length, lines a second); the
//! connection to Docker closes when the client unsubscribes or goes away,
//! since dropping the stream drops it.

use async_graphql::{Context, Enum, SimpleObject, Subscription};
use futures_util::{Stream, StreamExt};

use super::caller::{Role, require};
use super::error::{ApiError, ApiResult, ErrorCode};
use crate::engine::error::ErrorChain;
use crate::engine::logs::{LogStream, MAX_TAIL, ServiceLogLine};
use crate::serve::AppState;

/// Where a line of a service's log was written.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "LogStream")]
pub enum LogStreamKind {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
    /// A line of voc's own (lines it dropped over the rate).
    Voc,
}

impl From<LogStream> for LogStreamKind {
    fn from(stream: LogStream) -> Self {
        match stream {
            LogStream::Stdout => LogStreamKind::Stdout,
            LogStream::Stderr => LogStreamKind::Stderr,
            LogStream::Voc => LogStreamKind::Voc,
        }
    }
}

/// One line of a service's log.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "ServiceLogLine")]
pub struct ServiceLogLineView {
    /// When it was written (RFC 3339), when Docker said.
    pub at: Option<String>,
    /// The line, without its newline (cut at 16 KiB).
    pub line: String,
    /// Where it was written.
    pub stream: LogStreamKind,
    /// The task that wrote it, when Docker said.
    pub task_id: Option<String>,
}

impl From<ServiceLogLine> for ServiceLogLineView {
    fn from(line: ServiceLogLine) -> Self {
        ServiceLogLineView {
            at: line.at_millis.map(crate::timestamp::format_millis),
            line: line.line,
            stream: line.stream.into(),
            task_id: line.task_id,
        }
    }
}

/// The target `target` names; without one, the target git puts stack
/// `stack` on, or else the only target there is.
fn target_name(state: &AppState, stack: &str, target: Option<String>) -> ApiResult<String> {
    if let Some(name) = target {
        return if state.targets.contains_key(&name) {
            Ok(name)
        } else {
            Err(ApiError::not_found(format!("there is no target named {name}")).into())
        };
    }
    let in_git = state.conf.borrow().as_ref().and_then(|snapshot| {
        snapshot
            .report
            .conf
            .stacks
            .get(stack)
            .map(|e| e.config.target.clone())
    });
    if let Some(name) = in_git.filter(|name| state.targets.contains_key(name)) {
        return Ok(name);
    }
    let mut names = state.targets.keys();
    match (names.next(), names.next()) {
        (Some(only), None) => Ok(only.clone()),
        (None, _) => Err(ApiError::not_found("voc has no target").into()),
        (Some(_), Some(_)) => Err(ApiError::new(
            ErrorCode::Validation,
            format!("git does not have stack {stack} and voc has several targets: say which one with `target`"),
        )
        .into()),
    }
}

/// The logs subscription.
#[derive(Default)]
pub struct ServiceLogsSubscription;

#[Subscription]
impl ServiceLogsSubscription {
    /// The log of service `service` of stack `stack` (the swarm service
    /// `<stack>_<service>`) on `target` (by default the one git puts the
    /// stack on, or the only one):
    /// its last `tail` lines (at most 5000), then each new line, until the
    /// service is removed. NOT_FOUND for an unknown service or target.
    async fn service_logs(
        &self,
        ctx: &Context<'_>,
        stack: String,
        service: String,
        #[graphql(default = 200)] tail: i32,
        target: Option<String>,
    ) -> Result<impl Stream<Item = ApiResult<ServiceLogLineView>> + use<>, async_graphql::Error>
    {
        require(ctx, Role::Viewer)?;
        let state = ctx.data::<AppState>()?;
        let target = target_name(state, &stack, target)?;
        let Some(engine) = state.targets.get(&target).map(|t| t.engine.clone()) else {
            return Err(ApiError::not_found(format!("there is no target named {target}")).into());
        };
        let tail = u32::try_from(tail.max(0)).unwrap_or(0).min(MAX_TAIL);
        let name = format!("{stack}_{service}");
        let lines = engine
            .service_logs(&name, tail)
            .await
            .map_err(|error| match error {
                crate::engine::Error::ServiceNotFound { .. } => ApiError::not_found(format!(
                    "stack {stack} has no service {service} on target {target}"
                )),
                other => ApiError::internal(format!(
                    "voc could not read the logs of {name} on target {target}: {}",
                    ErrorChain(&other)
                )),
            })?;
        Ok(lines.map(|item| {
            item.map(ServiceLogLineView::from).map_err(|error| {
                ApiError::internal(format!(
                    "the logs stopped: {}",
                    crate::engine::error::ErrorChain(&error)
                ))
                .into()
            })
        }))
    }
}
