# smppd's container image: built from this tree on Debian 12, run on Debian 12 slim as a
# non-root user.
#   docker build -t smppd --build-arg SMPPD_GIT_REVISION=$(git describe --always --dirty) .
#   docker run -p 2775:2775 -p 8080:8080 smppd          (the demo configuration, at once)
# deploy/compose/docker-compose.yaml mounts a configuration and certificates; README.md
# ("Container") has the rest. scripts/build-image.sh builds the same image without a registry
# (buildah, from a debootstrapped root and the Debian package).

FROM debian:12 AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates g++ cmake ninja-build pkg-config \
      libboost1.81-dev libyaml-dev libsqlite3-dev libssl-dev liblua5.4-dev libspdlog-dev \
      libfmt-dev libcli11-dev libgrpc++-dev libprotobuf-dev protobuf-compiler \
      protobuf-compiler-grpc libldap-dev libsystemd-dev libhiredis-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The image has no .git: the revision `smppd --version` prints comes from here.
ARG SMPPD_GIT_REVISION=unknown
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
      -DSMPPD_TESTS=OFF -DSMPPD_BENCH=OFF \
 && SMPPD_GIT_REVISION=$SMPPD_GIT_REVISION cmake --build /build --target smppd \
 && DESTDIR=/out cmake --install /build --strip

FROM debian:12-slim
# The shared libraries smppd links (the Debian package's Depends), certificates and zones.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates tzdata libyaml-0-2 libsqlite3-0 libssl3 liblua5.4-0 libspdlog1.10-fmt9 \
      libfmt9 libgrpc++1.51 libgrpc29 libprotobuf32 libldap-2.5-0 libsystemd0 libhiredis0.14 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 smppd \
 && useradd --system --uid 10001 --gid smppd --home-dir /var/lib/smppd --no-create-home \
      --shell /usr/sbin/nologin smppd \
 && install -d -o smppd -g smppd -m 0750 /var/lib/smppd /var/log/smppd
COPY --from=build /out/usr/bin/smppd /usr/bin/smppd
COPY --from=build /out/etc/smppd/smppd.yaml /etc/smppd/smppd.yaml
# By number, so that Kubernetes' runAsNonRoot can check it (deploy/kubernetes).
USER 10001:10001
WORKDIR /var/lib/smppd
VOLUME ["/var/lib/smppd"]
# SMPP, the HTTP API (and its /health).
EXPOSE 2775 8080
# Ready: an upstream is bound and the store can be written (GET /health on the HTTP listener
# of the configuration).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["smppd", "health", "--config", "/etc/smppd/smppd.yaml", "--timeout", "4000"]
# SIGTERM: every session unbound within the shutdown grace (10 s); give `docker stop -t 30`.
STOPSIGNAL SIGTERM
ENTRYPOINT ["smppd"]
CMD ["--config", "/etc/smppd/smppd.yaml"]
