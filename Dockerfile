# kiemke — Tổng kiểm kê tài sản công
#
#   docker build -t kiemke .
#   docker run --rm -p 8080:8080 -e DATABASE_URL=postgres://kiemke:kiemke@db:5432/kiemke kiemke
#
# Without DATABASE_URL the service keeps a SQLite file kiemke.db in /var/lib/kiemke
# (mount a volume there to keep it). See docker-compose.yml for the PostgreSQL set-up.

# ---- build ----------------------------------------------------------------
FROM rust:1.95-bookworm AS builder
WORKDIR /src
# Everything the build reads: the workspace, the migration crate, the forms
# embedded by build.rs. target/ and local databases are kept out by .dockerignore.
COPY . .
RUN cargo build --release --locked --bin kiemke \
 && strip target/release/kiemke

# ---- run ------------------------------------------------------------------
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 kiemke \
 && useradd --system --uid 10001 --gid kiemke --home-dir /var/lib/kiemke --create-home --shell /usr/sbin/nologin kiemke
COPY --from=builder /src/target/release/kiemke /usr/local/bin/kiemke
USER kiemke:kiemke
WORKDIR /var/lib/kiemke
ENV KIEMKE_BIND=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["kiemke"]
CMD ["serve"]
