# emomix-server: the server with the default voice (slt-emo), CPU inference.
# Build:  docker build -t emomix .        (or podman build)
# Run:    docker run -p 8080:8080 emomix
# Settings come from the environment (PORT, EMOMIX_MAX_SESSIONS, ... see
# `emomix serve --help`). Where the public base cannot be pulled, build a local
# one from Debian packages (scripts/build-base-image.sh) and pass
#   --build-arg BASE_IMAGE=localhost/emomix-base:node20-bookworm
# The GPU variant is described in docs/deploy.md.
ARG BASE_IMAGE=node:20-bookworm-slim

FROM ${BASE_IMAGE} AS build
WORKDIR /app
# package.json's allowScripts denies onnxruntime-node's CUDA download; npm
# releases that predate allowScripts read this instead.
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json tsconfig.json ./
COPY bin bin
COPY src src
COPY bench bench
# `prepare` compiles to dist/; then only what runs stays, and of onnxruntime's
# prebuilt libraries only this platform's (the others are 245 MB). Behind a proxy that
# re-signs TLS, pass its CA bundle: --secret id=ca,src=/etc/ssl/certs/ca-certificates.crt
RUN --mount=type=secret,id=ca,required=false \
    if [ -f /run/secrets/ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca; fi \
    && npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund \
    && node -e 'const fs = require("fs"), dir = "node_modules/onnxruntime-node/bin/napi-v6"; \
         for (const os of fs.readdirSync(dir)) for (const arch of fs.readdirSync(`${dir}/${os}`)) \
           if (os !== process.platform || arch !== process.arch) fs.rmSync(`${dir}/${os}/${arch}`, { recursive: true })'

FROM ${BASE_IMAGE}
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    EMOMIX_MODELS=/app/models \
    EMOMIX_WEB_DIR=/app/clients/web
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY bin bin
COPY clients/web clients/web
COPY models/slt-emo models/slt-emo
USER node
EXPOSE 8080
# Liveness only: a full or draining instance is healthy (its /health says 503 to the balancer).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/health/live`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Node is PID 1 and handles SIGTERM itself: it drains (EMOMIX_DRAIN_TIMEOUT_MS) and exits 0.
STOPSIGNAL SIGTERM
CMD ["node", "bin/emomix.js", "serve"]
