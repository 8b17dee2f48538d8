//! The client of one Elasticsearch output (nodes, TLS, credentials read
//! from their secrets), and the start-up check that the cluster answers as
//! Elasticsearch does.

use std::time::Duration;

use elasticsearch::auth::Credentials;
use elasticsearch::cert::{Certificate, CertificateValidation};
use elasticsearch::http::headers::HeaderMap;
use elasticsearch::http::transport::{
    MultiNodeConnectionPool, SingleNodeConnectionPool, TransportBuilder,
};
use elasticsearch::http::Method;
use elasticsearch::Elasticsearch;

use crate::config::ElasticsearchConfig;

/// Builds the client for an output from its config, reading secrets.
pub fn client(name: &str, config: &ElasticsearchConfig) -> anyhow::Result<Elasticsearch> {
    let urls = config
        .nodes
        .iter()
        .map(|n| {
            elasticsearch::http::Url::parse(n).map_err(|e| {
                let n = crate::config::node_for_messages(n);
                anyhow::anyhow!("output \"{name}\": node \"{n}\" is not a URL: {e}")
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut builder = if urls.len() == 1 {
        TransportBuilder::new(SingleNodeConnectionPool::new(urls[0].clone()))
    } else {
        TransportBuilder::new(MultiNodeConnectionPool::round_robin(urls, None))
    };
    builder = builder
        .timeout(config.request_timeout)
        .request_body_compression(config.gzip);
    if let (Some(user), Some(password)) = (&config.username, &config.password) {
        let password = password.read(&format!("output \"{name}\" password"))?;
        builder = builder.auth(Credentials::Basic(user.clone(), password));
    }
    if let Some(key) = &config.api_key {
        let key = key.read(&format!("output \"{name}\" api_key"))?;
        builder = builder.auth(Credentials::EncodedApiKey(key));
    }
    if let Some(ca) = &config.ca_file {
        let pem = std::fs::read(ca).map_err(|e| {
            anyhow::anyhow!(
                "output \"{name}\": cannot read ca_file {} ({e})",
                ca.display()
            )
        })?;
        let cert = Certificate::from_pem(&pem).map_err(|e| {
            anyhow::anyhow!(
                "output \"{name}\": ca_file {} is not a PEM certificate: {e}",
                ca.display()
            )
        })?;
        builder = builder.cert_validation(CertificateValidation::Full(cert));
    }
    let transport = builder
        .build()
        .map_err(|e| anyhow::anyhow!("output \"{name}\": cannot build the client: {e}"))?;
    Ok(Elasticsearch::new(transport))
}

/// Why a cluster did not pass the check.
#[derive(Debug)]
pub enum NotReady {
    /// Down or busy for now (no answer, 5xx, 429): ask again later.
    Unavailable(anyhow::Error),
    /// An answer that waiting does not change (refused credentials, not
    /// Elasticsearch, another 4xx): the config needs fixing.
    Wrong(anyhow::Error),
}

impl NotReady {
    pub fn into_error(self) -> anyhow::Error {
        match self {
            NotReady::Unavailable(e) | NotReady::Wrong(e) => e,
        }
    }
}

/// Checks that the cluster answers `GET /` as Elasticsearch does.
pub async fn check_reachable(name: &str, client: &Elasticsearch) -> anyhow::Result<()> {
    check_cluster(name, client)
        .await
        .map_err(NotReady::into_error)
}

/// Checks that the cluster answers `GET /` as Elasticsearch does, telling
/// what may pass with time from what needs the config fixed.
pub async fn check_cluster(name: &str, client: &Elasticsearch) -> Result<(), NotReady> {
    let response = client
        .send(
            Method::Get,
            "/",
            HeaderMap::new(),
            None::<&()>,
            None::<&[u8]>,
            Some(Duration::from_secs(10)),
        )
        .await
        .map_err(|e| {
            NotReady::Unavailable(anyhow::anyhow!(
                "output \"{name}\": cannot reach Elasticsearch ({e}); check `nodes` and that the cluster is up"
            ))
        })?;
    let status = response.status_code().as_u16();
    match status {
        200 => {}
        401 | 403 => {
            return Err(NotReady::Wrong(anyhow::anyhow!(
                "output \"{name}\": Elasticsearch refused the credentials (HTTP {status}); check username/password or api_key"
            )))
        }
        429 | 500..=599 => {
            return Err(NotReady::Unavailable(anyhow::anyhow!(
                "output \"{name}\": Elasticsearch answered HTTP {status} to GET /; it is starting, recovering or overloaded"
            )))
        }
        _ => {
            return Err(NotReady::Wrong(anyhow::anyhow!(
                "output \"{name}\": Elasticsearch answered HTTP {status} to GET /; check `nodes` (a proxy path?)"
            )))
        }
    }
    let product = response
        .headers()
        .get("x-elastic-product")
        .and_then(|v| v.to_str().ok());
    if product != Some("Elasticsearch") {
        return Err(NotReady::Wrong(anyhow::anyhow!(
            "output \"{name}\": the server is not Elasticsearch (no X-Elastic-Product header); check `nodes`"
        )));
    }
    Ok(())
}
