//! A running target group: its registered targets with their health, its draining targets,
//! and the settings its attributes give.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;
use causeway_model::elb::{
    HealthCheck, Target, TargetGroupPlan, TargetHealthReport, TargetHealthState,
};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::health::{self, Health, Probe};

/// What connections and health checks need from the target group's configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub health_check: HealthCheck,
    pub proxy_protocol_v2: bool,
    /// A TLS target group (targets get TLS behind a listener that terminates it).
    pub tls: bool,
    pub deregistration_delay: Duration,
    pub terminate_on_deregistration: bool,
}

#[derive(Debug)]
pub struct Group {
    pub settings: Arc<ArcSwap<Settings>>,
    /// Registered targets (not draining); read on every new connection.
    pub members: ArcSwap<Vec<Arc<Member>>>,
    draining: Arc<Mutex<Vec<Arc<Member>>>>,
}

/// One registered target.
#[derive(Debug)]
pub struct Member {
    pub target: Target,
    /// Where connections go; `None` when the target id is not an IP address.
    pub addr: Option<SocketAddr>,
    health: Mutex<Health>,
    healthy: AtomicBool,
    /// Set to `true` to close every connection to this target.
    terminate: watch::Sender<bool>,
    checker: Mutex<Option<JoinHandle<()>>>,
}

impl Member {
    fn new(target: Target) -> Member {
        let addr = target
            .id
            .parse::<IpAddr>()
            .ok()
            .map(|ip| SocketAddr::new(ip, target.port));
        let (terminate, _) = watch::channel(false);
        Member {
            target,
            addr,
            health: Mutex::new(Health::initial()),
            healthy: AtomicBool::new(false),
            terminate,
            checker: Mutex::new(None),
        }
    }

    pub fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    /// A receiver that turns `true` when this target's connections must close.
    pub fn terminated(&self) -> watch::Receiver<bool> {
        self.terminate.subscribe()
    }

    /// Records a failure seen on live traffic (a refused connection): the target is marked
    /// unhealthy at once instead of waiting for the next check.
    pub fn passive_failure(&self, error: &std::io::Error) {
        let mut health = lock(&self.health);
        health.mark_unhealthy(&Probe::ConnectionFailed(error.to_string()));
        self.healthy.store(false, Ordering::Relaxed);
    }

    fn record(&self, probe: &Probe, check: &HealthCheck) {
        let mut health = lock(&self.health);
        health.record(probe, check);
        self.healthy.store(
            health.state == TargetHealthState::Healthy,
            Ordering::Relaxed,
        );
    }

    fn report(&self) -> TargetHealthReport {
        let health = lock(&self.health);
        TargetHealthReport {
            target: self.target.clone(),
            state: health.state,
            reason: health.reason.map(str::to_owned),
            description: health.description.clone(),
        }
    }

    fn stop_checks(&self) {
        if let Some(task) = lock(&self.checker).take() {
            task.abort();
        }
    }
}

impl Group {
    pub fn new() -> Group {
        Group {
            settings: Arc::new(ArcSwap::from_pointee(Settings {
                health_check: HealthCheck::defaults("TCP"),
                proxy_protocol_v2: false,
                tls: false,
                deregistration_delay: Duration::from_secs(300),
                terminate_on_deregistration: false,
            })),
            members: ArcSwap::from_pointee(Vec::new()),
            draining: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Brings the group in line with its plan: settings swap in, targets that stay keep their
    /// health, new ones start checks, removed ones drain.
    pub fn update(
        &self,
        plan: &TargetGroupPlan,
        tls: &Option<Arc<tokio_rustls::rustls::ClientConfig>>,
    ) {
        self.settings.store(Arc::new(Settings {
            health_check: plan.health_check.clone(),
            proxy_protocol_v2: plan.proxy_protocol_v2,
            tls: plan.tls,
            deregistration_delay: Duration::from_secs(u64::from(plan.deregistration_delay_seconds)),
            terminate_on_deregistration: plan.terminate_on_deregistration,
        }));
        let current = self.members.load_full();
        let mut by_target: HashMap<&Target, &Arc<Member>> =
            current.iter().map(|m| (&m.target, m)).collect();
        let mut next = Vec::with_capacity(plan.targets.len());
        for target in &plan.targets {
            match by_target.remove(target) {
                Some(member) => next.push(member.clone()),
                None => {
                    // A target registered again while draining stops draining.
                    lock(&self.draining).retain(|m| &m.target != target);
                    let member = Arc::new(Member::new(target.clone()));
                    self.start_checks(&member, tls);
                    next.push(member);
                }
            }
        }
        let removed: Vec<Arc<Member>> = by_target.into_values().cloned().collect();
        self.members.store(Arc::new(next));
        for member in removed {
            self.drain(member);
        }
    }

    /// Stops health checks; used when the target group is gone from the plan.
    pub fn retire(&self) {
        for member in self.members.load().iter() {
            member.stop_checks();
        }
    }

    /// Reports for registered and draining targets.
    pub fn health_reports(&self) -> Vec<TargetHealthReport> {
        let mut reports: Vec<TargetHealthReport> =
            self.members.load().iter().map(|m| m.report()).collect();
        for member in lock(&self.draining).iter() {
            reports.push(TargetHealthReport {
                target: member.target.clone(),
                state: TargetHealthState::Draining,
                reason: Some("Target.DeregistrationInProgress".to_owned()),
                description: Some("Target deregistration is in progress".to_owned()),
            });
        }
        reports
    }

    /// The target for a new connection: among healthy targets, or among all reachable ones
    /// when none is healthy (fail open). `attempt` moves to the next candidate after a
    /// failed connect.
    pub fn pick(&self, hash: u64, attempt: usize) -> Option<(Arc<Member>, usize)> {
        // Counted, then indexed, so that choosing allocates nothing per connection.
        let members = self.members.load();
        let reachable = |m: &&Arc<Member>| m.addr.is_some();
        let healthy = |m: &&Arc<Member>| m.addr.is_some() && m.is_healthy();
        let healthy_count = members.iter().filter(healthy).count();
        let count = if healthy_count > 0 {
            healthy_count
        } else {
            members.iter().filter(reachable).count()
        };
        if count == 0 || attempt >= count {
            return None;
        }
        let index = (hash as usize).wrapping_add(attempt) % count;
        let chosen = if healthy_count > 0 {
            members.iter().filter(healthy).nth(index)
        } else {
            members.iter().filter(reachable).nth(index)
        };
        chosen.map(|member| (member.clone(), count))
    }

    fn start_checks(
        &self,
        member: &Arc<Member>,
        tls: &Option<Arc<tokio_rustls::rustls::ClientConfig>>,
    ) {
        let Some(addr) = member.addr else {
            let mut health = lock(&member.health);
            health.mark_unhealthy(&Probe::ConnectionFailed("not an IP address".into()));
            health.description = Some(format!(
                "Target id '{}' is not an IP address this load balancer can reach",
                member.target.id
            ));
            return;
        };
        let settings = self.settings.clone();
        let weak = Arc::downgrade(member);
        let tls = tls.clone();
        let task = tokio::spawn(async move {
            loop {
                let current = settings.load_full();
                let check = &current.health_check;
                let target = match check.port.parse::<u16>() {
                    Ok(port) => SocketAddr::new(addr.ip(), port),
                    Err(_) => addr,
                };
                let probe = health::probe(target, check, tls.as_ref()).await;
                let Some(member) = weak.upgrade() else { return };
                member.record(&probe, check);
                drop(member);
                tokio::time::sleep(Duration::from_secs(u64::from(
                    check.interval_seconds.max(1),
                )))
                .await;
            }
        });
        *lock(&member.checker) = Some(task);
    }

    fn drain(&self, member: Arc<Member>) {
        member.stop_checks();
        let delay = self.settings.load().deregistration_delay;
        lock(&self.draining).push(member.clone());
        let draining = self.draining.clone();
        let settings = self.settings.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            // Still draining (not registered again in the meantime)?
            let was_draining = {
                let mut list = lock(&draining);
                let before = list.len();
                list.retain(|m| !Arc::ptr_eq(m, &member));
                list.len() != before
            };
            if was_draining && settings.load().terminate_on_deregistration {
                member.terminate.send_replace(true);
            }
        });
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}
