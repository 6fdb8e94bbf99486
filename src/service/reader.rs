//! Who reads what the service knows about lessons, leaders and statistics.

use super::ServiceError;
use crate::domain::account::User;
use crate::domain::refusal::PartnerRefusal;

/// Who reads the knowledge base: a logged-in user, or a partner program
/// (which needs the `lessons:read` scope).
#[derive(Debug, Clone)]
pub enum Reader {
    User(User),
    Partner(crate::domain::partner::Partner),
}

impl Reader {
    pub fn require(&self, scope: crate::domain::partner::Scope) -> Result<(), ServiceError> {
        match self {
            Reader::User(_) => Ok(()),
            Reader::Partner(p) if p.may(scope) => Ok(()),
            Reader::Partner(p) => Err(PartnerRefusal::MissingScope {
                needed: scope.to_string(),
                has: p.scopes.to_string(),
            }
            .into()),
        }
    }
}
