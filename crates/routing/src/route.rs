//! The compiled route tree of one deployment and the lookup that matches a request to a
//! resource, a method and its path parameters.
//!
//! # Matching rules
//!
//! The request path (after the stage, still percent-encoded) is split on `/` and empty
//! segments are dropped, so `//a/` is `/a` and an empty path is the root resource. The tree is
//! then walked one segment at a time; at each node the segment goes to
//!
//! 1. the static child whose path part equals the decoded segment (case-sensitive), else
//! 2. the `{param}` child, which takes exactly this segment, else
//! 3. the greedy `{name+}` child, which takes this segment and every one after it.
//!
//! The walk never backtracks. AWS documents that with `/{proxy+}` and `/parent` as siblings,
//! "`/{proxy+}` refers to any resources under the root resource except for the `/parent[/*]`
//! resources", and calls this "a method request against a specific resource takes precedence
//! over a method request against a generic resource at the same level". A `{param}` is as
//! generic as a `{proxy+}` at its level, so we read the rule the same way for it: once a
//! segment has matched a static resource, the request belongs to that subtree. If nothing in
//! the subtree matches the rest of the path, or the resource reached has no method for the
//! verb, the answer is [`NoRoute`], never a retry through the `{param}` or greedy sibling.
//! Likewise a segment taken by `{param}` is not offered to a greedy sibling afterwards. (AWS
//! itself never lets `{param}` and `{name+}` be siblings; a snapshot that has both still
//! compiles, with `{param}` first.) Besides following the documentation, this makes a lookup
//! cost one step per segment whatever the shape of the tree.
//!
//! The method is the one stored under the request verb, else the one under `ANY`. `ANY`
//! stands for DELETE, GET, HEAD, OPTIONS, PATCH, POST and PUT; other verbs (and the literal
//! verb `ANY`) match nothing. HEAD is not served by a GET method.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use causeway_model::{ApiSnapshot, DeployedResource, HttpMethod, Method};
use percent_encoding::percent_decode_str;

/// The route tree of one deployment, built once by [`CompiledApi::compile`] and then only read.
///
/// Nodes live in one vector and point at each other and at the snapshot's resources by index,
/// so the tree holds no references and can be shared between threads behind an `Arc`.
pub struct CompiledApi {
    snapshot: Arc<ApiSnapshot>,
    /// Node 0 is the root.
    nodes: Vec<Node>,
    conflicts: Vec<Conflict>,
}

/// A successful match of a request against a [`CompiledApi`].
#[derive(Debug, Clone, PartialEq)]
pub struct RouteMatch<'a> {
    /// The matched resource with its path template (`/pets/{id}`).
    pub resource: &'a DeployedResource,
    /// Position of `resource` in the snapshot's `resources`, for tables the caller keeps
    /// beside the snapshot.
    pub resource_index: usize,
    /// The method that serves the request.
    pub method: &'a Method,
    /// The key `method` is stored under: the request verb, or `ANY` when the fallback served it.
    pub method_key: &'a str,
    /// Path parameters in path order, from the outermost resource in.
    pub path_params: Vec<PathParam<'a>>,
}

/// A path parameter captured by a `{name}` or `{name+}` resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathParam<'a> {
    /// The name inside the braces, without a trailing `+`.
    pub name: &'a str,
    /// The percent-decoded value; for a greedy parameter, the decoded segments joined by `/`.
    /// Bytes that do not decode to UTF-8 become U+FFFD. Borrowed from the path when nothing
    /// needed decoding.
    pub value: Cow<'a, str>,
    /// The value as the client sent it, still percent-encoded. This is what goes into an
    /// integration URI, which must not be decoded twice. Borrowed from the path unless a
    /// greedy value had to skip empty segments.
    pub raw: Cow<'a, str>,
}

/// Why a request matched no method. The gateway answers both with 403 `Missing
/// Authentication Token`, as AWS does; the distinction is for logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NoRoute {
    /// No resource has this path.
    #[error("no resource matches the request path")]
    UnknownPath,
    /// The resource exists but has no method for the verb, not even `ANY`.
    #[error("the resource has no method for the request verb")]
    UnknownMethod,
}

/// A resource of the snapshot that [`CompiledApi::compile`] left out of the tree because its
/// path cannot exist next to the others. The control plane never produces such snapshots; the
/// gateway should log these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// Position of the resource in the snapshot's `resources`.
    pub resource_index: usize,
    /// Its path.
    pub path: String,
    /// What is wrong with it.
    pub reason: ConflictReason,
}

/// What makes a resource's path impossible to add to the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConflictReason {
    /// An earlier resource has the same path; the earlier one is kept.
    DuplicatePath,
    /// A sibling already has a variable of the same kind with another name (`{id}` beside
    /// `{name}`), so a request could not tell which name to bind.
    SecondVariable {
        /// The name the tree already uses at that level.
        existing: String,
    },
    /// A greedy `{name+}` part is followed by more parts; a greedy resource has no children.
    ChildOfGreedy,
}

impl CompiledApi {
    /// Compiles the route tree of `snapshot`, which is copied so that the tree owns it.
    pub fn compile(snapshot: &ApiSnapshot) -> CompiledApi {
        CompiledApi::compile_shared(Arc::new(snapshot.clone()))
    }

    /// Compiles the route tree of a snapshot the caller already shares, without copying it.
    pub fn compile_shared(snapshot: Arc<ApiSnapshot>) -> CompiledApi {
        let mut builder = Builder {
            nodes: vec![Node::new(NodeKind::Static, "")],
        };
        let mut conflicts = Vec::new();
        for (index, deployed) in snapshot.resources.iter().enumerate() {
            if let Err(reason) = builder.insert(index, &deployed.path) {
                conflicts.push(Conflict {
                    resource_index: index,
                    path: deployed.path.clone(),
                    reason,
                });
            }
        }
        CompiledApi {
            snapshot,
            nodes: builder.nodes,
            conflicts,
        }
    }

    /// Matches a request: `method` is the request verb as sent (case-sensitive) and `raw_path`
    /// the path after the stage, still percent-encoded (`/pets/a%20b`). See the module
    /// documentation for the rules.
    pub fn route<'a>(&'a self, method: &str, raw_path: &'a str) -> Result<RouteMatch<'a>, NoRoute> {
        let mut node = self.node(ROOT)?;
        let mut path_params = Vec::new();
        let mut segments = raw_path.split('/').filter(|segment| !segment.is_empty());
        while let Some(segment) = segments.next() {
            let decoded = decode(segment);
            if let Some(child) = node.statics.get(&decoded) {
                node = self.node(child)?;
            } else if let Some(child) = node.param {
                node = self.node(child)?;
                path_params.push(PathParam {
                    name: &node.name,
                    value: decoded,
                    raw: Cow::Borrowed(segment),
                });
            } else if let Some(child) = node.greedy {
                node = self.node(child)?;
                // The rest of the path from this segment on, without a trailing slash: the
                // segments joined by `/`, unless empty segments have to be skipped.
                let start = segment.as_ptr() as usize - raw_path.as_ptr() as usize;
                let rest = raw_path[start..].trim_end_matches('/');
                let raw = if rest.contains("//") {
                    let mut raw = segment.to_owned();
                    for segment in segments.by_ref() {
                        raw.push('/');
                        raw.push_str(segment);
                    }
                    Cow::Owned(raw)
                } else {
                    Cow::Borrowed(rest)
                };
                let value = match decode_all(&raw) {
                    Cow::Borrowed(_) => raw.clone(),
                    Cow::Owned(decoded) => Cow::Owned(decoded),
                };
                path_params.push(PathParam {
                    name: &node.name,
                    value,
                    raw,
                });
                break;
            } else {
                return Err(NoRoute::UnknownPath);
            }
        }

        let resource_index = node.resource.ok_or(NoRoute::UnknownPath)?;
        let resource = self
            .snapshot
            .resources
            .get(resource_index)
            .ok_or(NoRoute::UnknownPath)?;
        let (method_key, method) = method_of(resource, method).ok_or(NoRoute::UnknownMethod)?;
        Ok(RouteMatch {
            resource,
            resource_index,
            method,
            method_key,
            path_params,
        })
    }

    /// The snapshot the tree was compiled from.
    pub fn snapshot(&self) -> &ApiSnapshot {
        &self.snapshot
    }

    /// The resources left out of the tree, in snapshot order; empty for any snapshot the
    /// control plane makes.
    pub fn conflicts(&self) -> &[Conflict] {
        &self.conflicts
    }

    /// A node by index. Indices are only ever made by the builder, so a miss cannot happen;
    /// it is still answered as "no route" rather than a panic on the request path.
    fn node(&self, index: usize) -> Result<&Node, NoRoute> {
        self.nodes.get(index).ok_or(NoRoute::UnknownPath)
    }
}

impl fmt::Debug for CompiledApi {
    /// A summary: the snapshot can hold thousands of resources.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompiledApi")
            .field("api", &self.snapshot.api.id)
            .field("resources", &self.snapshot.resources.len())
            .field("nodes", &self.nodes.len())
            .field("conflicts", &self.conflicts)
            .finish()
    }
}

impl<'a> RouteMatch<'a> {
    /// The matched resource's path template, e.g. `/pets/{id}`.
    pub fn resource_path(&self) -> &'a str {
        &self.resource.path
    }

    /// The matched resource's id.
    pub fn resource_id(&self) -> &'a str {
        &self.resource.resource.id
    }

    /// The path parameter called `name`, if the matched path has one.
    pub fn path_param(&self, name: &str) -> Option<&PathParam<'a>> {
        self.path_params.iter().find(|param| param.name == name)
    }
}

/// Index of the root node.
const ROOT: usize = 0;

/// Up to this many static children are kept in a vector and scanned: comparing a few short
/// strings is cheaper than hashing one. Wider nodes (a root with thousands of children) use a
/// hash map.
const LINEAR_LIMIT: usize = 8;

/// One resource path position in the tree.
#[derive(Debug)]
struct Node {
    kind: NodeKind,
    /// The snapshot resource at this path; `None` for a position that only leads to deeper
    /// resources (a snapshot normally lists every ancestor, so this is rare).
    resource: Option<usize>,
    statics: Statics,
    /// The `{param}` child.
    param: Option<usize>,
    /// The greedy `{name+}` child.
    greedy: Option<usize>,
    /// The parameter name of a variable node; empty for a static one.
    name: Box<str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NodeKind {
    Static,
    Param,
    Greedy,
}

impl Node {
    fn new(kind: NodeKind, name: &str) -> Node {
        Node {
            kind,
            resource: None,
            statics: Statics::Few(Vec::new()),
            param: None,
            greedy: None,
            name: name.into(),
        }
    }
}

/// The static children of a node, keyed by their exact path part.
#[derive(Debug)]
enum Statics {
    Few(Vec<(Box<str>, usize)>),
    Many(HashMap<Box<str>, usize, BuildHasherDefault<Fnv1a>>),
}

impl Statics {
    fn get(&self, part: &str) -> Option<usize> {
        match self {
            Statics::Few(children) => children
                .iter()
                .find(|(name, _)| **name == *part)
                .map(|&(_, index)| index),
            Statics::Many(children) => children.get(part).copied(),
        }
    }

    /// Adds a child the caller has checked is not there yet.
    fn insert(&mut self, part: &str, index: usize) {
        match self {
            Statics::Few(children) if children.len() < LINEAR_LIMIT => {
                children.push((part.into(), index));
            }
            Statics::Few(children) => {
                let mut map: HashMap<_, _, _> = children.drain(..).collect();
                map.insert(part.into(), index);
                *self = Statics::Many(map);
            }
            Statics::Many(children) => {
                children.insert(part.into(), index);
            }
        }
    }
}

/// FNV-1a, a fast hash for short keys. The keys are path parts from the API's own
/// configuration and lookups never insert, so a client cannot steer collisions; the
/// flooding resistance of the default SipHash buys nothing here and costs a third of a lookup.
#[derive(Debug, Clone, Copy)]
struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv1a {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// A path part of a resource template.
#[derive(Debug, Clone, Copy)]
enum Part<'a> {
    Static(&'a str),
    Param(&'a str),
    Greedy(&'a str),
}

impl<'a> Part<'a> {
    fn parse(part: &'a str) -> Part<'a> {
        match part
            .strip_prefix('{')
            .and_then(|inner| inner.strip_suffix('}'))
        {
            Some(inner) => match inner.strip_suffix('+') {
                Some(name) => Part::Greedy(name),
                None => Part::Param(inner),
            },
            None => Part::Static(part),
        }
    }
}

/// Builds the node vector, one resource path at a time.
struct Builder {
    nodes: Vec<Node>,
}

impl Builder {
    /// Adds the resource at `index` under `path`, or says why it cannot be added. A path that
    /// conflicts leaves the tree untouched: it is checked in full before any node is created,
    /// so a rejected resource cannot leave behind an empty static node that would shadow a
    /// `{param}` sibling.
    fn insert(&mut self, index: usize, path: &str) -> Result<(), ConflictReason> {
        let parts: Vec<Part<'_>> = path
            .split('/')
            .filter(|part| !part.is_empty())
            .map(Part::parse)
            .collect();
        if let Some(position) = parts
            .iter()
            .position(|part| matches!(part, Part::Greedy(_)))
            && position + 1 != parts.len()
        {
            return Err(ConflictReason::ChildOfGreedy);
        }

        // Follow the nodes that exist; a variable part must agree with the name already there.
        let mut node = ROOT;
        let mut depth = 0;
        while let Some(&part) = parts.get(depth) {
            match self.existing_child(node, part)? {
                Some(child) => node = child,
                None => break,
            }
            depth += 1;
        }
        if depth == parts.len() && self.node(node)?.resource.is_some() {
            return Err(ConflictReason::DuplicatePath);
        }

        // The remaining parts are all new positions, so nothing below can conflict.
        for &part in parts.iter().skip(depth) {
            node = self.create_child(node, part)?;
        }
        self.node_mut(node)?.resource = Some(index);
        Ok(())
    }

    /// The child of `node` for `part`, if the tree has one.
    fn existing_child(&self, node: usize, part: Part<'_>) -> Result<Option<usize>, ConflictReason> {
        let parent = self.node(node)?;
        let (child, name) = match part {
            Part::Static(part) => return Ok(parent.statics.get(part)),
            Part::Param(name) => (parent.param, name),
            Part::Greedy(name) => (parent.greedy, name),
        };
        match child {
            None => Ok(None),
            Some(child) => {
                let existing = &self.node(child)?.name;
                if **existing == *name {
                    Ok(Some(child))
                } else {
                    Err(ConflictReason::SecondVariable {
                        existing: existing.to_string(),
                    })
                }
            }
        }
    }

    /// Appends a node for `part` under `node`, which the caller has checked has none.
    fn create_child(&mut self, node: usize, part: Part<'_>) -> Result<usize, ConflictReason> {
        // Insert checks that a greedy part comes last, and the tree only holds checked paths,
        // so a greedy node never gets here as a parent; this keeps the invariant local anyway.
        if self.node(node)?.kind == NodeKind::Greedy {
            return Err(ConflictReason::ChildOfGreedy);
        }
        let child = self.nodes.len();
        let (kind, name) = match part {
            Part::Static(_) => (NodeKind::Static, ""),
            Part::Param(name) => (NodeKind::Param, name),
            Part::Greedy(name) => (NodeKind::Greedy, name),
        };
        self.nodes.push(Node::new(kind, name));
        let parent = self.node_mut(node)?;
        match part {
            Part::Static(part) => parent.statics.insert(part, child),
            Part::Param(_) => parent.param = Some(child),
            Part::Greedy(_) => parent.greedy = Some(child),
        }
        Ok(child)
    }

    // The builder makes every index it follows, so these lookups cannot miss; they return an
    // error rather than index directly so that compiling has no panicking path at all.
    fn node(&self, index: usize) -> Result<&Node, ConflictReason> {
        self.nodes.get(index).ok_or(ConflictReason::DuplicatePath)
    }

    fn node_mut(&mut self, index: usize) -> Result<&mut Node, ConflictReason> {
        self.nodes
            .get_mut(index)
            .ok_or(ConflictReason::DuplicatePath)
    }
}

/// The method of `resource` that serves `verb`, with the key it is stored under.
fn method_of<'a>(resource: &'a DeployedResource, verb: &str) -> Option<(&'a str, &'a Method)> {
    // `ANY` is a method key, not a verb a client can send, and only the seven verbs AWS lists
    // fall back to it.
    match HttpMethod::parse(verb) {
        None | Some(HttpMethod::Any) => return None,
        Some(_) => {}
    }
    let methods = &resource.resource.methods;
    methods
        .get_key_value(verb)
        .or_else(|| methods.get_key_value(HttpMethod::Any.as_str()))
        .map(|(key, method)| (key.as_str(), method))
}

/// Percent-decodes one path segment. Borrows when there is nothing to decode, which is the
/// common case, so a static path is matched without allocating.
fn decode(segment: &str) -> Cow<'_, str> {
    percent_decode_str(segment).decode_utf8_lossy()
}

/// Decodes a greedy value, segment by segment: `%2F` decodes to a `/` inside its segment,
/// as when each segment is decoded alone.
fn decode_all(raw: &str) -> Cow<'_, str> {
    if !raw.contains('%') {
        return Cow::Borrowed(raw);
    }
    let mut value = String::with_capacity(raw.len());
    for (i, segment) in raw.split('/').enumerate() {
        if i > 0 {
            value.push('/');
        }
        value.push_str(&decode(segment));
    }
    Cow::Owned(value)
}

#[cfg(test)]
mod tests;
