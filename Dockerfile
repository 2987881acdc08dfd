# edgewarden: one image for the operator, the agents and the export Jobs: `edgewarden
# <command>`. The operator's pod runs `edgewarden operator`, an agent pod `edgewarden agent`,
# an export Job's pod `edgewarden export` (see agent-runtime/src/contract).
# Built for linux/arm64 (Raspberry Pi 5) and linux/amd64:
#   docker buildx build --platform linux/arm64,linux/amd64 -t edgewarden:dev .
#
# Multi-arch: each platform's build stage runs on that platform (under QEMU emulation when it
# is not the builder's own), so `npm ci` downloads or compiles better-sqlite3 for the target and
# `process.arch` below names the target's onnxruntime binaries. Do not add
# `FROM --platform=$BUILDPLATFORM` to the build stage: it would be faster, but it would put the
# builder's native modules into the other platform's image.
#
# `npm test` builds it with Docker's BuildKit (scripts/image/build.sh, on local stand-ins for the
# two base images where no registry is reachable) and checks the result (test/image/), then runs
# it on a real kubelet (test/e2e/). See docs/image.md.

# --- build: compile TypeScript, then keep production dependencies only -------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /src
# better-sqlite3 compiles its native module with these when no prebuilt binary can be downloaded.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json .npmrc ./
RUN ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
# The product's sources only; tsconfig.image.json compiles them and nothing of scripts/ or test/.
COPY tsconfig.json tsconfig.build.json tsconfig.image.json ./
COPY api/src api/src
COPY agent-runtime/src agent-runtime/src
COPY operator/src operator/src
COPY cli/src cli/src
RUN node_modules/.bin/tsc -p tsconfig.image.json
RUN npm prune --omit=dev --no-audit --no-fund
# Native modules: this platform's binaries only, and nothing else of their builds. The `ls`
# after each trim checks that the file the runtime loads is still there: a trim that went too
# far fails the build here, not a pod at start.
RUN arch=$(node -p 'process.arch') \
    # onnxruntime-node ships binaries for every platform (about 290 MB): keep this one's.
    && find node_modules/onnxruntime-node/bin -mindepth 3 -maxdepth 3 -type d ! -path "*/linux/${arch}" -exec rm -rf {} + \
    && ls node_modules/onnxruntime-node/bin/napi-v*/linux/${arch}/onnxruntime_binding.node \
    # better-sqlite3 keeps its module; its SQLite and C++ sources and build leftovers go.
    && rm -rf node_modules/better-sqlite3/deps node_modules/better-sqlite3/src \
    && find node_modules/better-sqlite3/build -mindepth 1 -maxdepth 1 ! -name Release -exec rm -rf {} + \
    && find node_modules/better-sqlite3/build/Release -mindepth 1 -maxdepth 1 ! -name better_sqlite3.node -exec rm -rf {} + \
    && ls node_modules/better-sqlite3/build/Release/better_sqlite3.node

# --- runtime: Debian 12 with no shell, Node 20, non-root, nothing but the app ------------------
# distroless's cc-debian12 is glibc, libstdc++, CA certificates, time zones and a nonroot user
# (65532), with no shell, package manager or other tools; onnxruntime-node needs glibc (no
# Alpine). It is what distroless's own nodejs images are made of, plus the Node binary: here the
# build stage's own, the Node that the native modules were built against. (distroless stopped
# updating nodejs20-debian12 in 2026, so that image no longer gets Debian's fixes; cc-debian12
# still does.)
FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
COPY --from=build /usr/local/bin/node /nodejs/bin/node
WORKDIR /app
COPY package.json ./
COPY --from=build /src/node_modules node_modules
# The baseline models (npm run models): what agents serve until a site trains its own.
COPY models models
# The real OpenWrt sample (MIT, with its licence) that `edgewarden demo` analyses.
COPY agent-runtime/data agent-runtime/data
# The built-in detection rule packs and the schema they (and users' packs) are checked against.
COPY agent-runtime/rules agent-runtime/rules
COPY api/schema/rules api/schema/rules
COPY bin bin
COPY --from=build /src/dist dist
USER 65532:65532
ENTRYPOINT ["/nodejs/bin/node", "/app/bin/edgewarden.js"]
CMD ["--help"]
