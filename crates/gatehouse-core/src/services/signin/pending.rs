//! What a session waits for before its next step: kept with the session, never sent to the
//! browser. Secrets in it are sealed with the master key.

/// The step in progress of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Pending {
    /// An authenticator app's secret (sealed), until the app's first code proves it.
    TotpSecret(String),
    /// A code to email once the step is stored (see `send_email_code`).
    EmailCodeDue,
    /// The hash of the code sent by email.
    EmailCode(String),
    /// A security key's registration ceremony (webauthn-rs state, sealed).
    KeyRegistration(String),
    /// An administrator registering a key for another user from the console (sealed state).
    KeyRegistrationFor { user_id: String, sealed: String },
    /// A security key's sign-in challenge (webauthn-rs state, sealed).
    KeyChallenge(String),
    /// An authenticator app gave a genuine code outside the window: its next code resyncs it.
    TotpResync { device_id: String, step: i64 },
}

impl Pending {
    pub(crate) fn encode(&self) -> String {
        match self {
            Pending::TotpSecret(s) => format!("totp:{s}"),
            Pending::EmailCodeDue => "email".to_string(),
            Pending::EmailCode(h) => format!("email:{h}"),
            Pending::KeyRegistration(s) => format!("webauthn-reg:{s}"),
            Pending::KeyChallenge(s) => format!("webauthn-auth:{s}"),
            Pending::KeyRegistrationFor { user_id, sealed } => format!("webauthn-reg-for:{user_id}:{sealed}"),
            Pending::TotpResync { device_id, step } => format!("resync:{step}:{device_id}"),
        }
    }

    pub(crate) fn decode(text: &str) -> Option<Pending> {
        if text == "email" {
            return Some(Pending::EmailCodeDue);
        }
        let (kind, value) = text.split_once(':')?;
        let value = value.to_string();
        Some(match kind {
            "totp" => Pending::TotpSecret(value),
            "email" => Pending::EmailCode(value),
            "webauthn-reg" => Pending::KeyRegistration(value),
            "webauthn-auth" => Pending::KeyChallenge(value),
            "webauthn-reg-for" => {
                let (user_id, sealed) = value.split_once(':')?;
                Pending::KeyRegistrationFor { user_id: user_id.to_string(), sealed: sealed.to_string() }
            }
            "resync" => {
                let (step, device_id) = value.split_once(':')?;
                Pending::TotpResync { device_id: device_id.to_string(), step: step.parse().ok()? }
            }
            _ => return None,
        })
    }

    /// The pending step of a session, if it has one this version understands.
    pub(crate) fn of(session: &crate::model::PortalSession) -> Option<Pending> {
        session.pending.as_deref().and_then(Pending::decode)
    }
}

impl crate::services::Services {
    /// Store a session's pending step (or clear it).
    pub(super) async fn set_pending(&self, mut session: crate::model::PortalSession, pending: Option<Pending>) -> crate::error::Result<()> {
        session.pending = pending.map(|p| p.encode());
        let mut tx = self.store.begin().await?;
        tx.update_session(&session).await?;
        tx.commit().await?;
        self.clear_read_caches();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for p in [
            Pending::TotpSecret("sealed".into()),
            Pending::EmailCodeDue,
            Pending::EmailCode("hash".into()),
            Pending::KeyRegistration("a:b".into()),
            Pending::KeyChallenge("c".into()),
            Pending::KeyRegistrationFor { user_id: "u-1".into(), sealed: "x:y".into() },
            Pending::TotpResync { device_id: "0193-ab".into(), step: 56_666_667 },
        ] {
            assert_eq!(Pending::decode(&p.encode()), Some(p));
        }
        assert_eq!(Pending::decode("unknown:x"), None);
    }
}
