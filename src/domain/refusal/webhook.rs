//! Webhook endpoints and their deliveries.

use super::{area, Explain, Kind};
use crate::domain::organisation::Language;

#[derive(Debug, Clone, PartialEq, strum::IntoStaticStr, strum::EnumCount)]
#[strum(serialize_all = "snake_case")]
pub enum WebhookRefusal {
    /// Does not exist, or belongs to another partner.
    UnknownEndpoint {
        id: i64,
    },
    UnknownDelivery {
        id: i64,
    },
    TooManyEndpoints {
        max: i64,
    },
    /// The URL's text, or where its host points, is not allowed.
    WebhookUrlRefused {
        reason: String,
    },
    /// A delivery still on its way cannot be sent again yet.
    StillOnItsWay {
        id: i64,
    },
    /// An admin paused the endpoint; only an admin resumes it.
    HeldByAdmin {
        id: i64,
    },
}

area!(WebhookRefusal);

impl Explain for WebhookRefusal {
    fn code(&self) -> &'static str {
        self.variant()
    }

    fn kind(&self) -> Kind {
        use WebhookRefusal as R;
        match self {
            R::UnknownEndpoint { .. } | R::UnknownDelivery { .. } => Kind::NotFound,
            R::WebhookUrlRefused { .. } => Kind::Invalid,
            R::TooManyEndpoints { .. } | R::StillOnItsWay { .. } | R::HeldByAdmin { .. } => {
                Kind::Conflict
            }
        }
    }

    fn message(&self, language: Language) -> String {
        use WebhookRefusal as R;
        match (self, language) {
            (R::UnknownEndpoint { id }, Language::Nl) => format!("er is geen webhook-endpoint {id}"),
            (R::UnknownEndpoint { id }, Language::En) => format!("no webhook endpoint {id}"),
            (R::UnknownDelivery { id }, Language::Nl) => {
                format!("dit endpoint heeft geen aflevering {id}")
            }
            (R::UnknownDelivery { id }, Language::En) => {
                format!("this endpoint has no delivery {id}")
            }
            (R::TooManyEndpoints { max }, Language::Nl) => {
                format!("een partner heeft hoogstens {max} webhook-endpoints; verwijder er eerst een")
            }
            (R::TooManyEndpoints { max }, Language::En) => {
                format!("a partner has at most {max} webhook endpoints; delete one first")
            }
            (R::WebhookUrlRefused { reason }, Language::Nl) => {
                format!("deze URL kan geen webhooks ontvangen: {reason}")
            }
            (R::WebhookUrlRefused { reason }, Language::En) => {
                format!("this URL cannot receive webhooks: {reason}")
            }
            (R::StillOnItsWay { id }, Language::Nl) => format!(
                "aflevering {id} is nog onderweg; opnieuw versturen kan als ze is afgeleverd of het opgaf"
            ),
            (R::StillOnItsWay { id }, Language::En) => format!(
                "delivery {id} is still on its way; it can be sent again once delivered or given up"
            ),
            (R::HeldByAdmin { id }, Language::Nl) => format!(
                "een beheerder heeft endpoint {id} stilgezet; alleen een beheerder zet het weer aan"
            ),
            (R::HeldByAdmin { id }, Language::En) => {
                format!("an admin paused endpoint {id}; only an admin can resume it")
            }
        }
    }
}

impl WebhookRefusal {
    pub(super) fn examples() -> Vec<Self> {
        vec![
            WebhookRefusal::UnknownEndpoint { id: 3 },
            WebhookRefusal::UnknownDelivery { id: 41 },
            WebhookRefusal::TooManyEndpoints { max: 10 },
            WebhookRefusal::WebhookUrlRefused {
                reason: "'intern.example' resolves to 10.0.0.5, a private address".into(),
            },
            WebhookRefusal::StillOnItsWay { id: 41 },
            WebhookRefusal::HeldByAdmin { id: 3 },
        ]
    }
}
