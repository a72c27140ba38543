//! Sign-in audit events as the guide shows them: CredentialChallenge, CredentialVerification and
//! UserAuthentication from `signin.amazonaws.com`, correlated by AuthWorkflowID; then the portal's
//! Authenticate from `sso.amazonaws.com`.

use serde_json::{Value, json};

use crate::model::{AuditRecord, EVENT_VERSION};
use crate::services::Services;

/// Who and where: the same on every event of one sign-in.
pub struct Attempt<'a> {
    pub user_name: &'a str,
    pub source_ip: &'a str,
    pub user_agent: &'a str,
    pub workflow: &'a str,
}

pub enum Outcome {
    Success,
    Failure,
}

impl Services {
    pub(super) fn signin_event(&self, a: &Attempt<'_>, name: &str, additional: Value, outcome: Outcome) -> AuditRecord {
        let account = self.instance.get().map(|i| i.management_account_id.clone()).unwrap_or_default();
        AuditRecord {
            event_version: EVENT_VERSION.to_string(),
            user_identity: json!({
                "type": "Unknown",
                "principalId": account,
                "arn": "",
                "accountId": account,
                "accessKeyId": "",
                "userName": a.user_name,
            }),
            event_time: self.clock.now(),
            event_source: "signin.amazonaws.com".to_string(),
            event_name: name.to_string(),
            aws_region: self.config.region.clone(),
            source_ip_address: a.source_ip.to_string(),
            user_agent: a.user_agent.to_string(),
            request_parameters: Value::Null,
            response_elements: Value::Null,
            request_id: crate::ids::new_uuid(),
            event_id: crate::ids::new_uuid(),
            read_only: false,
            resources: Vec::new(),
            event_type: "AwsServiceEvent".to_string(),
            management_event: true,
            recipient_account_id: account,
            error_code: None,
            error_message: None,
            additional_event_data: additional,
            service_event_details: json!({ name: match outcome { Outcome::Success => "Success", Outcome::Failure => "Failure" } }),
        }
    }

    /// The user is asked for a credential of this type.
    pub(crate) fn challenge_event(&self, a: &Attempt<'_>, credential: &str) -> AuditRecord {
        self.signin_event(a, "CredentialChallenge", json!({"AuthWorkflowID": a.workflow, "CredentialType": credential}), Outcome::Success)
    }

    /// The user answered a challenge.
    pub(crate) fn verification_event(&self, a: &Attempt<'_>, credential: &str, outcome: Outcome) -> AuditRecord {
        self.signin_event(a, "CredentialVerification", json!({"AuthWorkflowID": a.workflow, "CredentialType": credential}), outcome)
    }

    /// The portal takes the finished sign-in (the SSO Portal's `Authenticate` action).
    pub(crate) fn portal_authenticate_event(&self, a: &Attempt<'_>) -> AuditRecord {
        let mut record = self.signin_event(a, "Authenticate", json!({"AuthWorkflowID": a.workflow}), Outcome::Success);
        record.event_source = "sso.amazonaws.com".to_string();
        record.event_type = "AwsApiCall".to_string();
        record.service_event_details = Value::Null;
        record
    }

    /// Every challenge is solved: the user is signed in.
    pub(crate) fn authentication_event(&self, a: &Attempt<'_>, verified: &[String], enrolled: bool, login_to: &str) -> AuditRecord {
        let mut data = json!({"AuthWorkflowID": a.workflow, "LoginTo": login_to, "CredentialType": verified.join(",")});
        if enrolled {
            data["DeviceEnrollmentRequired"] = json!("true");
        }
        self.signin_event(a, "UserAuthentication", data, Outcome::Success)
    }
}
