//! The `es-standin` binary: the Elasticsearch stand-in of
//! `crates/es-standin`, built in the daemon's package so that its tests can
//! start it (`CARGO_BIN_EXE_es-standin`).

fn main() -> anyhow::Result<()> {
    es_standin::main()
}
