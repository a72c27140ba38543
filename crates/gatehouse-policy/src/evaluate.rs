//! Request evaluation for identity-based policies.

use crate::Context;
use crate::document::{Effect, Policy, Statement};
use crate::matcher::glob_match;

/// One authorization question: may the caller perform `action` on `resource`?
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// `service:Action`, e.g. `sso:CreatePermissionSet`.
    pub action: &'a str,
    /// The resource ARN, or `*` for actions without a resource.
    pub resource: &'a str,
    pub context: &'a Context,
}

/// The outcome of [`evaluate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// A matching `Deny` statement: overrides every `Allow`.
    ExplicitDeny,
    /// No statement allowed the request (the default).
    ImplicitDeny,
}

impl Decision {
    pub fn is_allowed(self) -> bool {
        self == Decision::Allow
    }
}

/// Evaluate identity-based policies for one request: explicit Deny in any
/// policy wins; otherwise Allow if any statement allows; otherwise ImplicitDeny.
pub fn evaluate(policies: &[Policy], request: &Request) -> Decision {
    let action: Vec<char> = request.action.chars().collect();
    let resource: Vec<char> = request.resource.chars().collect();
    let mut allowed = false;
    for statement in policies.iter().flat_map(|p| &p.statements) {
        // Once allowed, only a Deny can change the outcome.
        if allowed && statement.effect == Effect::Allow {
            continue;
        }
        if applies(statement, &action, &resource, request.context) {
            match statement.effect {
                Effect::Deny => return Decision::ExplicitDeny,
                Effect::Allow => allowed = true,
            }
        }
    }
    if allowed { Decision::Allow } else { Decision::ImplicitDeny }
}

/// Does `statement` apply to the request?
///
/// An unresolvable policy variable in a negated position (`NotResource`, a
/// `...Not...` operator) leaves the answer undetermined, because "matches
/// nothing" would widen the statement. Undetermined fails closed: an Allow
/// statement does not apply, a Deny statement does (if everything else matches).
fn applies(statement: &Statement, action: &[char], resource: &[char], context: &Context) -> bool {
    let actions = &statement.actions;
    let action_listed = actions.patterns.iter().any(|p| p.matches(action));
    if action_listed == actions.not {
        return false;
    }

    let mut undetermined = false;
    let resources = &statement.resources;
    let mut resource_listed = false;
    for template in &resources.patterns {
        match template.resolve(context) {
            Some(tokens) if glob_match(&tokens, resource, false) => {
                resource_listed = true;
                break;
            }
            Some(_) => {}
            None if resources.not => undetermined = true,
            // In Resource, an unresolvable entry simply matches nothing.
            None => {}
        }
    }
    if resource_listed == resources.not {
        return false;
    }

    for condition in &statement.conditions {
        match condition.evaluate(context) {
            Some(true) => {}
            Some(false) => return false,
            None => undetermined = true,
        }
    }
    !undetermined || statement.effect == Effect::Deny
}
