//! `logredact setup-es`: installs the ILM policy and the index template an
//! Elasticsearch output's `setup` names, with the output's index pattern
//! and policy filled in.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use elasticsearch::http::headers::HeaderMap;
use elasticsearch::http::Method;

use crate::config::{es_template, ElasticsearchConfig, EsSetup};

/// Installs the output's policy and template; returns what it did, in a
/// sentence.
pub async fn install(
    name: &str,
    es: &ElasticsearchConfig,
    setup: &EsSetup,
) -> anyhow::Result<String> {
    let client = super::client(name, es)?;
    let read = |p: &Path| -> anyhow::Result<serde_json::Value> {
        let text = std::fs::read_to_string(p)
            .with_context(|| format!("output \"{name}\": cannot read {}", p.display()))?;
        serde_json::from_str(&text)
            .with_context(|| format!("output \"{name}\": {} is not valid JSON", p.display()))
    };
    let policy = read(&setup.ilm_policy)?;
    let mut template = read(&setup.index_template)?;
    let policy_name = format!("logredact-{name}");
    let pattern = match (&es.index, &es.data_stream) {
        (Some(index), _) => index_pattern(index),
        (None, Some(ds)) => ds.clone(),
        (None, None) => unreachable!("checked when the config was loaded"),
    };
    es_template::fill(&mut template, &pattern, &policy_name).map_err(|e| {
        anyhow::anyhow!("output \"{name}\": {}: {e}", setup.index_template.display())
    })?;
    if es.data_stream.is_some() && template.get("data_stream").is_none() {
        template["data_stream"] = serde_json::json!({});
    }
    super::check_reachable(name, &client).await?;
    put(&client, &format!("/_ilm/policy/{policy_name}"), &policy).await?;
    put(
        &client,
        &format!("/_index_template/logredact-{name}"),
        &template,
    )
    .await?;
    Ok(format!(
        "installed ILM policy {policy_name} and index template logredact-{name} for {pattern}"
    ))
}

/// The seal index's template: what is searched is mapped, the fates are
/// kept in `_source` only (`dynamic: false`), not indexed.
const SEAL_TEMPLATE: &str = include_str!("../../../es/template-seals.json");

/// Installs the template of the seal indices `index` (a dated name, one
/// index a day), under the ILM policy of the sealed output `name`: seals
/// are deleted with the documents they cover, a day's at a time. Run after
/// `install` for that output, once.
pub async fn install_seal_index(
    name: &str,
    es: &ElasticsearchConfig,
    index: &str,
) -> anyhow::Result<String> {
    let client = super::client(name, es)?;
    let mut template: serde_json::Value =
        serde_json::from_str(SEAL_TEMPLATE).expect("the shipped seal template is JSON");
    let index = index_pattern(index);
    let policy = format!("logredact-{name}");
    es_template::fill(&mut template, &index, &policy)
        .expect("the shipped seal template has room for the settings");
    super::check_reachable(name, &client).await?;
    // One template for the seal indices of every sealed output (two with
    // the same pattern and priority would be refused).
    let template_name = "logredact-seals";
    put(
        &client,
        &format!("/_index_template/{template_name}"),
        &template,
    )
    .await?;
    Ok(format!(
        "installed index template {template_name} for the seal index {index}, under ILM policy {policy}"
    ))
}

/// `logs-hot-%Y.%m.%d` becomes `logs-hot-*`.
pub fn index_pattern(template: &str) -> String {
    match template.find('%') {
        Some(i) => format!("{}*", &template[..i]),
        None => template.to_owned(),
    }
}

async fn put(
    client: &elasticsearch::Elasticsearch,
    path: &str,
    body: &serde_json::Value,
) -> anyhow::Result<()> {
    let body = serde_json::to_vec(body)?;
    let response = client
        .send(
            Method::Put,
            path,
            HeaderMap::new(),
            None::<&()>,
            Some(body),
            Some(Duration::from_secs(30)),
        )
        .await
        .with_context(|| format!("PUT {path} failed"))?;
    let status = response.status_code().as_u16();
    if !(200..300).contains(&status) {
        let text = response.text().await.unwrap_or_default();
        anyhow::bail!("PUT {path}: Elasticsearch answered HTTP {status}: {text}");
    }
    Ok(())
}
