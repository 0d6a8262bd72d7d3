//! The images the conf repo builds: `images` and `image`, with what git
//! says (`image-<name>.json`), what the engine has (one `GET /images/json`
//! per query, only when engine fields are asked for) and the last build
//! job (one store query per query).

use std::collections::{BTreeMap, HashMap};

use async_graphql::{Context, Json, SimpleObject};

use super::caller::{Role, require};
use super::error::{ApiError, ApiResult};
use super::stacks::LastJob;
use crate::conf::model::{DEFAULT_TARGET, ImageEntry};
use crate::engine::watch::LocalImage;
use crate::reconcile::status::{LastDeploy, format_rfc3339};
use crate::serve::AppState;
use crate::store::{JobFilter, JobKind};

/// How many recent build jobs one query reads to find each image's last.
const RECENT_BUILDS: u32 = 1000;

/// An image the conf repo builds.
#[derive(SimpleObject, Debug, Clone)]
pub struct Image {
    /// Its name (`image-<name>.json`).
    pub name: String,
    /// The tag it is built as.
    pub tag: String,
    /// Where it is pushed after the build.
    pub push: Vec<String>,
    /// The build context in the conf repo (`""`: the root).
    pub context: String,
    /// The Dockerfile in the conf repo.
    pub dockerfile: String,
    /// The names of its build args (values are never shown: some are
    /// secrets).
    pub build_args: Vec<String>,
    /// The stage it builds, when not the last.
    pub target: Option<String>,
    /// The labels added to it.
    pub labels: Json<BTreeMap<String, String>>,
    /// True when the engine has the tag.
    pub present: bool,
    /// The engine's image ID for the tag.
    pub image_id: Option<String>,
    /// When the engine's image was created (RFC 3339).
    pub created: Option<String>,
    /// Its size in bytes.
    pub size: Option<i64>,
    /// voc's last build of it.
    pub last_build: Option<LastJob>,
}

fn to_image(
    entry: &ImageEntry,
    local: Option<&LocalImage>,
    last_build: Option<&LastDeploy>,
) -> Image {
    let config = &entry.config;
    Image {
        name: entry.name.clone(),
        tag: config.tag.clone(),
        push: config.push.clone(),
        context: entry.context.clone(),
        dockerfile: entry.dockerfile.clone(),
        build_args: config.build_args.keys().cloned().collect(),
        target: config.target.clone(),
        labels: Json(config.labels.clone()),
        present: local.is_some(),
        image_id: local.map(|l| l.id.clone()),
        created: local.map(|l| format_rfc3339(l.created)),
        size: local.map(|l| l.size),
        last_build: last_build.map(LastJob::from),
    }
}

/// The engine that builds images: the default target, else the first.
fn build_engine(state: &AppState) -> Option<&crate::engine::Engine> {
    state
        .targets
        .get(DEFAULT_TARGET)
        .or_else(|| state.targets.values().next())
        .map(|target| &target.engine)
}

/// The images of the conf snapshot, with engine data when `with_engine`.
async fn read_images(state: &AppState, with_engine: bool) -> ApiResult<Vec<Image>> {
    let Some(snapshot) = state.conf.borrow().clone() else {
        return Ok(Vec::new());
    };
    let mut local: HashMap<String, LocalImage> = HashMap::new();
    if with_engine && let Some(engine) = build_engine(state) {
        for image in engine.local_images().await.map_err(ApiError::internal)? {
            for tag in &image.tags {
                local.insert(tag.clone(), image.clone());
            }
        }
    }
    let store = state.store.clone();
    let builds = tokio::task::spawn_blocking(move || {
        store.list_jobs(&JobFilter {
            kind: Some(JobKind::Build),
            limit: Some(RECENT_BUILDS),
            ..JobFilter::default()
        })
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?;
    let mut last_builds: HashMap<String, LastDeploy> = HashMap::new();
    for job in builds {
        last_builds
            .entry(job.subject.clone())
            .or_insert(LastDeploy {
                id: job.id,
                status: job.status,
                error: job.error,
                finished_at: job.finished_at,
            });
    }
    Ok(snapshot
        .report
        .conf
        .images
        .values()
        .map(|entry| {
            let tag = crate::engine::reference::with_default_tag(&entry.config.tag);
            to_image(entry, local.get(&tag), last_builds.get(&entry.name))
        })
        .collect())
}

/// True when the query asks for a field only the engine knows.
fn wants_engine(ctx: &Context<'_>) -> bool {
    let fields = ctx.look_ahead();
    ["present", "imageId", "created", "size"]
        .iter()
        .any(|field| fields.field(field).exists())
}

/// The image queries.
#[derive(Default)]
pub struct ImagesQuery;

#[async_graphql::Object]
impl ImagesQuery {
    /// Every image the conf repo builds, by name.
    async fn images(&self, ctx: &Context<'_>) -> ApiResult<Vec<Image>> {
        require(ctx, Role::Viewer)?;
        let state = ctx.data::<AppState>()?;
        read_images(state, wants_engine(ctx)).await
    }

    /// One image; NOT_FOUND when the conf repo does not build it.
    async fn image(&self, ctx: &Context<'_>, name: String) -> ApiResult<Image> {
        require(ctx, Role::Viewer)?;
        let state = ctx.data::<AppState>()?;
        read_images(state, wants_engine(ctx))
            .await?
            .into_iter()
            .find(|image| image.name == name)
            .ok_or_else(|| {
                ApiError::not_found(format!("image {name} is not in the conf repo")).into()
            })
    }
}
