//! Turns policy files, the tenants file and the server config into one immutable [`Policy`]
//! with every reference resolved, every template and schema compiled and every secret read.
//! Whatever this accepts cannot fail at request time for a configuration reason.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::body_fields::BodyFields;
use super::model::{AuthScheme, EventHook, HandlerKind, LimitDef, PolicyFile, RouteDef};
use super::routes::{PathPattern, RouteTable};
use super::template::{KeyTemplate, parse_body_path};
use super::{AuthStage, Dedupe, Dispatch, Limit, Policy, Route, TenantSource, Validation};
use crate::config::{Config, Diagnostic, Secret, SourceFile};
use crate::signature::{Verifier, VerifyKey};
use crate::telemetry::metrics::{LimitSeries, RouteSeries};

pub const DEFAULT_BODY_LIMIT: u64 = 1 << 20;
const MAX_BODY_LIMIT: u64 = 64 << 20;
const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);
const DEFAULT_DEDUPE_PENDING_TTL: Duration = Duration::from_secs(120);

/// Compiles everything under `config.policy_dir` plus `config.tenants_file`.
pub fn compile(config: &Config) -> Result<Policy, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let sources = read_policy_files(&config.policy_dir, &mut errors);
    let tenants = SourceFile::read(&config.tenants_file);
    compile_read(config, &sources, tenants, errors)
}

/// [`compile`] over policy files and a tenants file already read (the policy fuzz target's
/// entry: the same compiler, without the file system).
#[doc(hidden)]
pub fn compile_sources(
    config: &Config,
    sources: &[SourceFile],
    tenants: SourceFile,
) -> Result<Policy, Vec<Diagnostic>> {
    compile_read(config, sources, Ok(tenants), Vec::new())
}

/// `errors`: what reading the files found wrong already.
fn compile_read(
    config: &Config,
    sources: &[SourceFile],
    tenants: Result<SourceFile, Diagnostic>,
    mut errors: Vec<Diagnostic>,
) -> Result<Policy, Vec<Diagnostic>> {
    let mut hasher = Sha256::new();
    let mut parsed = Vec::new();
    for source in sources {
        hasher.update(source.path.to_string_lossy().as_bytes());
        hasher.update(source.text.as_bytes());
        match source.parse::<PolicyFile>() {
            Ok(file) => parsed.push((source, file)),
            Err(d) => errors.push(d),
        }
    }

    let tenants = match tenants {
        Ok(source) => {
            hasher.update(source.text.as_bytes());
            compile_tenants(&source, &mut errors).map(|dir| {
                let shared = shared_retell_secrets(&parsed);
                let keys = tenant_keys(&source, &dir, &shared, &mut errors);
                let outlets = super::outlets::compile(&source, &dir, &mut errors);
                (dir, keys, outlets)
            })
        }
        Err(d) => {
            errors.push(d);
            None
        }
    };
    let shared_key_tenants = tenants
        .as_ref()
        .map(|(dir, keys, _)| dir.len() - keys.len())
        .unwrap_or(0);
    let tenant_count = tenants.as_ref().map_or(0, |(dir, _, _)| dir.len());

    let mut compiler = Compiler {
        config,
        errors,
        limits: HashMap::new(),
        auth: HashMap::new(),
        redaction: HashMap::new(),
        schemas: HashMap::new(),
        defined: HashMap::new(),
        shared_key_tenants,
        tenant_count,
    };
    // Definitions first (from every file), then routes, so files may refer to each other.
    for (source, file) in &parsed {
        compiler.definitions(source, file);
    }
    compiler.resolve_auth_limits(&parsed);
    let mut entries = Vec::new();
    let mut seen: Vec<(String, Vec<http::Method>, PathPattern, &SourceFile, usize)> = Vec::new();
    for (source, file) in &parsed {
        for (index, def) in file.routes.iter().enumerate() {
            if let Some((methods, pattern, route)) = compiler.route(source, index, def) {
                let overlap = seen.iter().find(|(name, m, p, _, _)| {
                    (name == &def.name)
                        || (p.same_shape(&pattern)
                            && (m.is_empty()
                                || methods.is_empty()
                                || m.iter().any(|x| methods.contains(x))))
                });
                if let Some((other, _, _, other_source, other_index)) = overlap {
                    let what = if other == &def.name {
                        "duplicate route name"
                    } else {
                        "route overlaps"
                    };
                    let line = other_source.at(&format!("routes[{other_index}]"), "").line;
                    compiler.errors.push(source.at(
                        &format!("routes[{index}]"),
                        format!(
                            "{what} `{other}` ({}:{line}): both match the same requests",
                            other_source.path.display()
                        ),
                    ));
                    continue;
                }
                seen.push((
                    def.name.clone(),
                    methods.clone(),
                    pattern.clone(),
                    source,
                    index,
                ));
                entries.push((methods, pattern, Arc::new(route)));
            }
        }
    }

    let mut errors = compiler.errors;
    if parsed.iter().all(|(_, f)| f.routes.is_empty()) && errors.is_empty() {
        errors.push(Diagnostic {
            file: config.policy_dir.clone(),
            line: 1,
            col: 1,
            message: "no routes defined: every request would be answered 404".into(),
        });
    }
    match (errors.is_empty(), tenants) {
        (true, Some((tenants, tenant_keys, outlets))) => Ok(Policy {
            routes: RouteTable::new(entries),
            tenants: Arc::new(tenants),
            tenant_keys,
            shared_key_tenants,
            outlets,
            hash: hex::encode(&hasher.finalize()[..8]),
            files: sources.iter().map(|s| s.path.clone()).collect(),
        }),
        _ => Err(errors),
    }
}

fn read_policy_files(dir: &Path, errors: &mut Vec<Diagnostic>) -> Vec<SourceFile> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            errors.push(Diagnostic {
                file: dir.to_path_buf(),
                line: 1,
                col: 1,
                message: format!("cannot read policy directory: {e}"),
            });
            return Vec::new();
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")))
        .collect();
    paths.sort();
    paths
        .iter()
        .filter_map(|p| SourceFile::read(p).map_err(|d| errors.push(d)).ok())
        .collect()
}

fn compile_tenants(
    source: &SourceFile,
    errors: &mut Vec<Diagnostic>,
) -> Option<frontdesk_booking::TenantDirectory> {
    let file: frontdesk_booking::TenantsFile = source.parse().map_err(|d| errors.push(d)).ok()?;
    match frontdesk_booking::TenantDirectory::compile(&file) {
        Ok(dir) => Some(dir),
        Err(problems) => {
            errors.extend(problems.into_iter().map(|p| source.at(&p.path, p.message)));
            None
        }
    }
}

/// The policy's Retell keys (every tenant without keys of its own shares them).
fn shared_retell_secrets(parsed: &[(&SourceFile, PolicyFile)]) -> Vec<Secret> {
    parsed
        .iter()
        .flat_map(|(_, file)| file.auth.values())
        .filter(|def| def.scheme == AuthScheme::Retell)
        .flat_map(|def| def.keys.iter())
        .filter_map(|key| key.resolve().ok().flatten())
        .collect()
}

/// Each tenant's own Retell keys, read now (like the policy's keys, on every reload). A key is
/// a tenant's own only if nobody else has it: one that another tenant or the policy also holds
/// would let a request signed for them pass as this tenant's.
fn tenant_keys(
    source: &SourceFile,
    dir: &frontdesk_booking::TenantDirectory,
    shared: &[Secret],
    errors: &mut Vec<Diagnostic>,
) -> HashMap<String, Vec<VerifyKey>> {
    let mut out = HashMap::new();
    let mut owners: Vec<(Secret, usize)> = Vec::new();
    for (i, tenant) in dir.tenants().enumerate() {
        if tenant.retell_keys.is_empty() {
            continue;
        }
        let mut keys = Vec::new();
        for (j, key) in tenant.retell_keys.iter().enumerate() {
            let at = format!("tenants[{i}].retell_keys[{j}]");
            match key.resolve() {
                Ok(Some(secret)) => {
                    if shared.contains(&secret) {
                        let msg = "this key is also one of the policy's Retell keys: a tenant's own key must be its alone";
                        errors.push(source.at(&at, msg));
                    } else if let Some((_, other)) =
                        owners.iter().find(|(s, owner)| *s == secret && *owner != i)
                    {
                        let msg = format!(
                            "this key is also tenants[{other}]'s: a tenant's own key must be its alone"
                        );
                        errors.push(source.at(&at, msg));
                    }
                    keys.push(VerifyKey::new(&secret));
                    owners.push((secret, i));
                }
                Ok(None) => {}
                Err(msg) => errors.push(source.at(&at, msg)),
            }
        }
        if keys.is_empty() {
            let msg = "none of this tenant's retell_keys is set: its calls could not be verified";
            errors.push(source.at(&format!("tenants[{i}].retell_keys"), msg));
        }
        out.insert(tenant.id.clone(), keys);
    }
    out
}

struct Compiler<'a> {
    config: &'a Config,
    errors: Vec<Diagnostic>,
    limits: HashMap<String, Arc<Limit>>,
    auth: HashMap<String, Arc<AuthStage>>,
    redaction: HashMap<String, Arc<frontdesk_redact::Redactor>>,
    schemas: HashMap<String, Arc<frontdesk_validate::Schema>>,
    /// Where each `section.name` was first defined, to refuse a second definition.
    defined: HashMap<String, PathBuf>,
    /// Tenants verified with the policy's Retell keys (see [`Policy::shared_key_tenants`]).
    shared_key_tenants: usize,
    /// All tenants: every one of them shares a non-Retell scheme's keys.
    tenant_count: usize,
}

impl Compiler<'_> {
    fn define(&mut self, source: &SourceFile, section: &str, name: &str) -> bool {
        let key = format!("{section}.{name}");
        if let Some(first) = self.defined.get(&key) {
            let msg = format!(
                "`{name}` is already defined in {} (section `{section}`)",
                first.display()
            );
            self.errors.push(source.at(&key, msg));
            return false;
        }
        self.defined.insert(key, source.path.clone());
        true
    }

    fn definitions(&mut self, source: &SourceFile, file: &PolicyFile) {
        for (name, def) in &file.limits {
            if self.define(source, "limits", name) {
                match compile_limit(name, def) {
                    Ok(limit) => {
                        self.limits.insert(name.clone(), Arc::new(limit));
                    }
                    Err((field, msg)) => self
                        .errors
                        .push(source.at(&format!("limits.{name}.{field}"), msg)),
                }
            }
        }
        for (name, def) in &file.redaction {
            if self.define(source, "redaction", name) {
                match frontdesk_redact::Redactor::new(def) {
                    Ok(r) => {
                        self.redaction.insert(name.clone(), Arc::new(r));
                    }
                    Err(e) => self
                        .errors
                        .push(source.at(&format!("redaction.{name}"), e.to_string())),
                }
            }
        }
        let base = source.path.parent().unwrap_or(Path::new("."));
        for (name, def) in &file.schemas {
            if self.define(source, "schemas", name) {
                match frontdesk_validate::Schema::compile(name, def, base) {
                    Ok(s) => {
                        self.schemas.insert(name.clone(), Arc::new(s));
                    }
                    Err(problems) => {
                        for p in problems {
                            let path = format!("schemas.{name}.{}", p.path);
                            self.errors
                                .push(source.at(&path, format!("schema `{name}`: {}", p.kind)));
                        }
                    }
                }
            }
        }
        for name in file.auth.keys() {
            self.define(source, "auth", name);
        }
    }

    /// Auth entries refer to limits, so they are compiled once every limit is known.
    fn resolve_auth_limits(&mut self, parsed: &[(&SourceFile, PolicyFile)]) {
        for (source, file) in parsed {
            for (name, def) in &file.auth {
                let at = |field: &str| format!("auth.{name}.{field}");
                let mut keys = Vec::new();
                for (i, key) in def.keys.iter().enumerate() {
                    match key.resolve() {
                        Ok(Some(secret)) => keys.push(VerifyKey::new(&secret)),
                        Ok(None) => {}
                        Err(msg) => self.errors.push(source.at(&at(&format!("keys[{i}]")), msg)),
                    }
                }
                if def.scheme != AuthScheme::None && def.keys.is_empty() {
                    self.errors.push(
                        source.at(&at("keys"), format!("auth `{name}` needs at least one key")),
                    );
                }
                let failure_limit = match &def.failure_limit {
                    None => None,
                    Some(limit) => match self.limits.get(limit) {
                        Some(l) => Some(l.clone()),
                        None => {
                            self.errors.push(
                                source.at(&at("failure_limit"), format!("unknown limit `{limit}`")),
                            );
                            None
                        }
                    },
                };
                if let Some(l) = &failure_limit
                    && (l.key.uses_tenant() || l.key.uses_body())
                {
                    let msg = format!(
                        "failure limit `{}` runs before authentication: its key may not use tenant or body",
                        l.name
                    );
                    self.errors.push(source.at(&at("failure_limit"), msg));
                }
                let stage = AuthStage {
                    name: name.clone(),
                    verifier: Verifier {
                        scheme: def.scheme,
                        keys,
                        tolerance: def.tolerance.unwrap_or(DEFAULT_TOLERANCE),
                    },
                    failure_limit,
                };
                self.auth.insert(name.clone(), Arc::new(stage));
            }
        }
    }

    fn lookup<T: Clone>(
        &mut self,
        map: &HashMap<String, T>,
        kind: &str,
        name: &str,
        source: &SourceFile,
        path: &str,
    ) -> Option<T> {
        let found = map.get(name).cloned();
        if found.is_none() {
            let mut known: Vec<&String> = map.keys().collect();
            known.sort();
            let known = if known.is_empty() {
                "none is defined".to_string()
            } else {
                format!(
                    "known: {}",
                    known
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            self.errors
                .push(source.at(path, format!("unknown {kind} `{name}` ({known})")));
        }
        found
    }

    fn template(&mut self, source: &SourceFile, path: &str, text: &str) -> Option<KeyTemplate> {
        KeyTemplate::parse(text)
            .map_err(|msg| self.errors.push(source.at(path, msg)))
            .ok()
    }

    fn route(
        &mut self,
        source: &SourceFile,
        index: usize,
        def: &RouteDef,
    ) -> Option<(Vec<http::Method>, PathPattern, Route)> {
        let at = |field: &str| format!("routes[{index}].{field}");
        let before = self.errors.len();

        let pattern = PathPattern::parse(&def.matcher.path)
            .map_err(|m| self.errors.push(source.at(&at("match.path"), m)))
            .ok();
        let mut methods = Vec::new();
        for m in def
            .matcher
            .method
            .as_ref()
            .map(|m| m.to_vec())
            .unwrap_or_default()
        {
            match http::Method::from_bytes(m.to_ascii_uppercase().as_bytes()) {
                Ok(method) => methods.push(method),
                Err(_) => self
                    .errors
                    .push(source.at(&at("match.method"), format!("invalid method `{m}`"))),
            }
        }
        if def.name.is_empty()
            || !def
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            self.errors
                .push(source.at(&at("name"), "route names use letters, digits, `_` and `-`"));
        }
        let body_limit = def.body_limit.map(|b| b.0).unwrap_or(DEFAULT_BODY_LIMIT);
        if body_limit > MAX_BODY_LIMIT {
            self.errors.push(source.at(
                &at("body_limit"),
                format!("body_limit {body_limit} exceeds the maximum of 64MiB"),
            ));
        }

        let auth = def
            .auth
            .as_ref()
            .and_then(|n| self.lookup(&self.auth.clone(), "auth", n, source, &at("auth")));
        let limits: Vec<Arc<Limit>> = def
            .limits
            .iter()
            .enumerate()
            .filter_map(|(i, n)| {
                self.lookup(
                    &self.limits.clone(),
                    "limit",
                    n,
                    source,
                    &at(&format!("limits[{i}]")),
                )
            })
            .collect();
        let redact = def.redact.as_ref().and_then(|n| {
            self.lookup(
                &self.redaction.clone(),
                "redaction profile",
                n,
                source,
                &at("redact"),
            )
        });

        let tenant = def.tenant.as_ref().map(|t| {
            let mut tpl = |field: &str, text: &Option<String>| {
                text.as_ref()
                    .and_then(|s| self.template(source, &at(&format!("tenant.{field}")), s))
            };
            TenantSource {
                agent_id: tpl("agent_id", &t.agent_id),
                number: tpl("number", &t.number),
                id: tpl("id", &t.id),
                required: t.required,
            }
        });
        if let Some(t) = &tenant
            && t.agent_id.is_none()
            && t.number.is_none()
            && t.id.is_none()
        {
            self.errors.push(source.at(
                &at("tenant"),
                "tenant needs at least one of agent_id, number, id",
            ));
        }
        if tenant.is_none()
            && let Some(l) = limits.iter().find(|l| l.key.uses_tenant())
        {
            let msg = format!(
                "limit `{}` keys on {{tenant}} but the route has no `tenant` source",
                l.name
            );
            self.errors.push(source.at(&at("limits"), msg));
        }
        if (!def.json)
            && let Some(l) = limits.iter().find(|l| l.key.uses_body())
        {
            let msg = format!(
                "limit `{}` reads the body but the route is not `json: true`",
                l.name
            );
            self.errors.push(source.at(&at("limits"), msg));
        }

        let validate = def.validate.as_ref().map(|v| {
            if !def.json {
                self.errors
                    .push(source.at(&at("validate"), "validation needs `json: true`"));
            }
            let schema = v.schema.as_ref().and_then(|n| {
                self.lookup(
                    &self.schemas.clone(),
                    "schema",
                    n,
                    source,
                    &at("validate.schema"),
                )
            });
            let by_function: BTreeMap<String, Arc<frontdesk_validate::Schema>> = v
                .by_function
                .iter()
                .filter_map(|(f, n)| {
                    let path = at(&format!("validate.by_function.{f}"));
                    self.lookup(&self.schemas.clone(), "schema", n, source, &path)
                        .map(|s| (f.clone(), s))
                })
                .collect();
            if schema.is_none() && v.by_function.is_empty() {
                self.errors
                    .push(source.at(&at("validate"), "validate needs `schema` or `by_function`"));
            }
            let function = self.template(
                source,
                &at("validate.function"),
                v.function.as_deref().unwrap_or("{param.name|body.name}"),
            );
            let at_path = v.at.as_ref().and_then(|p| {
                parse_body_path(p)
                    .map_err(|m| self.errors.push(source.at(&at("validate.at"), m)))
                    .ok()
            });
            Validation {
                schema,
                by_function,
                function,
                at: at_path,
            }
        });

        let dedupe = def.dedupe.as_ref().and_then(|d| {
            let key = self.template(source, &at("dedupe.key"), &d.key)?;
            if d.ttl.is_zero() {
                self.errors
                    .push(source.at(&at("dedupe.ttl"), "dedupe ttl must be positive"));
            }
            Some(Dedupe {
                key,
                ttl: d.ttl,
                pending_ttl: d.pending_ttl.unwrap_or(DEFAULT_DEDUPE_PENDING_TTL),
                status: d.status.unwrap_or(200),
                source: d.source.clone().unwrap_or_else(|| def.name.clone()),
            })
        });

        let ack_status = def.ack_status.unwrap_or(204);
        for (field, status) in [
            ("ack_status", Some(ack_status)),
            ("dedupe.status", def.dedupe.as_ref().and_then(|d| d.status)),
        ] {
            if let Some(s) = status
                && !(200..300).contains(&s)
            {
                self.errors.push(source.at(
                    &at(field),
                    format!("status {s} is not a 2xx: senders would retry"),
                ));
            }
        }

        let dispatch = match (def.handler, &def.upstream) {
            (Some(_), Some(_)) => {
                self.errors.push(source.at(
                    &at("upstream"),
                    "a route has either a `handler` or an `upstream`, not both",
                ));
                None
            }
            (Some(HandlerKind::Booking), None) => {
                if !def.json {
                    self.errors
                        .push(source.at(&at("handler"), "the booking handler needs `json: true`"));
                }
                Some(Dispatch::Booking)
            }
            (None, Some(name)) => match self.config.file.upstreams.get(name) {
                Some(_) => Some(Dispatch::Forward {
                    upstream: name.clone(),
                }),
                None if def.upstream_optional => Some(Dispatch::Ack { status: ack_status }),
                None => {
                    let known: Vec<&String> = self.config.file.upstreams.keys().collect();
                    let msg = format!(
                        "unknown upstream `{name}` (configured: {known:?}); set `upstream_optional: true` to acknowledge instead"
                    );
                    self.errors.push(source.at(&at("upstream"), msg));
                    None
                }
            },
            (None, None) => Some(Dispatch::Ack { status: ack_status }),
        };

        if let Some(auth) = &auth {
            self.check_signed_selection(source, &at, def, auth, tenant.as_ref(), validate.as_ref());
        }

        if self.errors.len() != before {
            return None;
        }
        let dispatch = dispatch?;
        let body_fields = body_fields(
            &dispatch,
            def.on_event,
            tenant.as_ref(),
            &limits,
            validate.as_ref(),
            dedupe.as_ref(),
        );
        Some((
            methods,
            pattern?,
            Route {
                name: def.name.clone(),
                body_limit,
                json: def.json,
                body_fields,
                auth,
                tenant,
                limits,
                validate,
                dedupe,
                redact_raw_transcript: redact.as_ref().map(|r| Arc::new(r.keeping_text_fields())),
                redact,
                dispatch,
                on_event: def.on_event,
                idempotent: def.idempotent,
                series: RouteSeries::new(),
            },
        ))
    }
}

impl Compiler<'_> {
    /// A tenant or function name that only headers or the path can give is believable only when
    /// the key that signed belongs to that tenant alone. With a Retell key shared by several
    /// tenants, one captured request could be replayed into any of them: refused here.
    fn check_signed_selection(
        &mut self,
        source: &SourceFile,
        at: &dyn Fn(&str) -> String,
        def: &RouteDef,
        auth: &AuthStage,
        tenant: Option<&TenantSource>,
        validate: Option<&Validation>,
    ) {
        // Only Retell keys can be a tenant's own; any other scheme's keys serve every tenant.
        let shared = match auth.verifier.scheme {
            AuthScheme::Retell => self.shared_key_tenants,
            AuthScheme::Calcom => self.tenant_count,
            AuthScheme::None => return,
        };
        if shared <= 1 {
            return;
        }
        let unsigned_only = |templates: &[Option<&KeyTemplate>]| {
            let present: Vec<&KeyTemplate> = templates.iter().flatten().copied().collect();
            !present.is_empty() && !present.iter().any(|t| t.has_signed_source())
        };
        if let Some(t) = tenant
            && unsigned_only(&[t.agent_id.as_ref(), t.number.as_ref(), t.id.as_ref()])
        {
            let msg = format!(
                "route `{}` takes its tenant only from unsigned headers or the path, while auth `{}`'s key is shared by {shared} tenants: a request signed for one tenant could be replayed into another. Give each tenant its own `retell_keys` in the tenants file, or select the tenant from a signed body field",
                def.name, auth.name
            );
            self.errors.push(source.at(&at("tenant"), msg));
        }
        if def.handler.is_some()
            && let Some(function) = validate.and_then(|v| v.function.as_ref())
            && unsigned_only(&[Some(function)])
        {
            let msg = format!(
                "route `{}` takes the function name only from unsigned headers or the path, while auth `{}`'s key is shared by {shared} tenants: a captured request could be replayed as another function in another tenant. Give each tenant its own `retell_keys`",
                def.name, auth.name
            );
            self.errors.push(source.at(&at("validate.function"), msg));
        }
    }
}

/// What a route's stages read of its body: the paths of its key templates and the validated
/// subtree. The booking handler and the Cal.com hook read more than templates say: the whole
/// body; the Retell call-event hook reads the event name and the call id.
fn body_fields(
    dispatch: &Dispatch,
    on_event: Option<EventHook>,
    tenant: Option<&TenantSource>,
    limits: &[Arc<Limit>],
    validate: Option<&Validation>,
    dedupe: Option<&Dedupe>,
) -> BodyFields {
    let whole_body_validated = validate.is_some_and(|v| v.at.is_none());
    if *dispatch == Dispatch::Booking
        || on_event == Some(EventHook::CalcomInvalidate)
        || whole_body_validated
    {
        return BodyFields::All;
    }
    let mut fields = BodyFields::none();
    if on_event == Some(EventHook::RetellCallEvents) {
        for path in ["event", "call.call_id"] {
            if let Ok(path) = parse_body_path(path) {
                fields.add(&path);
            }
        }
    }
    let templates = tenant
        .into_iter()
        .flat_map(|t| [&t.agent_id, &t.number, &t.id])
        .flatten()
        .chain(limits.iter().map(|l| &l.key))
        .chain(validate.and_then(|v| v.function.as_ref()))
        .chain(dedupe.map(|d| &d.key));
    for template in templates {
        for path in template.body_paths() {
            fields.add(path);
        }
    }
    if let Some(at) = validate.and_then(|v| v.at.as_deref()) {
        fields.add(at);
    }
    fields
}

fn compile_limit(name: &str, def: &LimitDef) -> Result<Limit, (&'static str, String)> {
    let key = KeyTemplate::parse(&def.key).map_err(|m| ("key", m))?;
    let burst = def.burst.unwrap_or(def.rate.count);
    if burst == 0 {
        return Err(("burst", "burst must be at least 1".into()));
    }
    Ok(Limit {
        name: name.to_string(),
        key,
        rate: frontdesk_store::Rate {
            count: def.rate.count,
            period: def.rate.period,
            burst,
        },
        scope: def.scope,
        mode: def.mode,
        fallback: def.fallback.clone().unwrap_or_else(|| "missing".into()),
        series: LimitSeries::default(),
    })
}

/// Things `check` points out that are allowed but probably not meant.
pub fn warnings(config: &Config, policy: &Policy) -> Vec<String> {
    let mut out = Vec::new();
    let shared_store = config
        .file
        .store
        .as_ref()
        .is_some_and(|s| s.backend == frontdesk_store::config::Backend::Redis);
    let embedded: Vec<&str> = policy
        .tenants
        .tenants()
        .filter(|t| {
            matches!(
                t.calendar,
                frontdesk_booking::tenants::CalendarConfig::Local(_)
            )
        })
        .map(|t| t.id.as_str())
        .collect();
    let sqlite = config.file.calendar_store.backend == frontdesk_booking::CalendarBackend::Sqlite;
    if shared_store && sqlite && !embedded.is_empty() {
        out.push(format!(
            "tenants {} use the embedded calendar on SQLite (one file per host) while the store is Redis, which is for several replicas: replicas on different hosts would each keep their own calendar, with double bookings and diverging availability. Set calendar_store.backend: postgres, run one replica, or put these tenants on Cal.com",
            embedded.join(", ")
        ));
    }
    for route in policy.routes.iter() {
        let tenant_required = route.tenant.as_ref().is_some_and(|t| t.required);
        for limit in &route.limits {
            if limit.key.can_be_absent(tenant_required) {
                out.push(format!(
                    "route `{}`: limit `{}`'s key can be absent from a request; such requests are limited per tenant and client address (bucket `{}`)",
                    route.name, limit.name, limit.fallback
                ));
            }
        }
    }
    let token_configured = config
        .file
        .admin
        .token
        .as_ref()
        .is_some_and(|t| matches!(t.resolve(), Ok(Some(_))));
    if !config.admin_listen.ip().is_loopback() && !token_configured {
        out.push(format!(
            "admin listener {} is not loopback and no admin token is set: mutating admin endpoints are refused",
            config.admin_listen
        ));
    }
    out
}
