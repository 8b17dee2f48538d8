# logredact container image: a multi-stage build.
#
# The build stage compiles logredact with the same command as the README
# ("Build a release binary"); librdkafka is built in, from the sources the
# rdkafka crate bundles (its configure script needs make, pkg-config and
# the OpenSSL and zlib headers). The runtime stage is Debian slim with
# only the shared libraries the binary links (OpenSSL 3, zlib) and CA
# certificates, and runs as an unprivileged user.
#
#   docker build -t logredact .
#   docker run --rm logredact check --rules /etc/logredact/rules

FROM rust:1.95-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends make pkg-config libssl-dev zlib1g-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin logredact \
    && cp target/release/logredact /usr/local/bin/logredact

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates libssl3 zlib1g \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/logredact --create-home logredact \
    && mkdir -p /var/lib/logredact/dead-letter \
    && chown -R logredact:logredact /var/lib/logredact
COPY --from=build /usr/local/bin/logredact /usr/local/bin/logredact
COPY rules/ /etc/logredact/rules/
COPY es/ /etc/logredact/es/
COPY config/ /etc/logredact/config/
USER logredact
WORKDIR /var/lib/logredact
EXPOSE 9464
HEALTHCHECK --interval=15s --timeout=6s --start-period=30s --retries=3 \
    CMD ["logredact", "health", "--address", "127.0.0.1:9464"]
ENTRYPOINT ["logredact"]
CMD ["run", "--config", "/etc/logredact/config/docker.toml"]
