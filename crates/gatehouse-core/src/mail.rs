//! Email through SMTP (lettre): invitations, password-reset links and one-time codes.

use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::error::{Error, Result};

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (port 587), required.
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same host or a test sink.
    None,
}

#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: String,
    pub password: String,
    /// The From address, e.g. `Gatehouse <sso@example.com>`.
    pub from: String,
}

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    pub fn new(c: &SmtpConfig) -> Result<Self> {
        let from: Mailbox = c.from.parse().map_err(|e| Error::validation("smtp_from", format!("not an email address: {e}")))?;
        let tls = |host: &str| TlsParameters::new(host.to_string()).map_err(|e| Error::internal(format!("SMTP TLS: {e}")));
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&c.host).port(c.port);
        builder = match c.security {
            SmtpSecurity::StartTls => builder.tls(Tls::Required(tls(&c.host)?)),
            SmtpSecurity::Tls => builder.tls(Tls::Wrapper(tls(&c.host)?)),
            SmtpSecurity::None => builder.tls(Tls::None),
        };
        if !c.username.is_empty() {
            builder = builder.credentials(Credentials::new(c.username.clone(), c.password.clone()));
        }
        Ok(Mailer { transport: builder.build(), from })
    }

    pub async fn send(&self, to: &str, subject: &str, body: String) -> Result<()> {
        let to: Mailbox = to.parse().map_err(|e| Error::validation("Email", format!("cannot send to {to:?}: {e}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| Error::internal(format!("email: {e}")))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| Error::Unavailable { message: format!("the email could not be sent: {e}") })
    }
}
