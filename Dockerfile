# edgewarden: one image for the operator, the agents and the export Jobs: `edgewarden
# <command>`. The operator's pod runs `edgewarden operator`, an agent pod `edgewarden agent`,
# an export Job's pod `edgewarden export` (see agent-runtime/src/contract).
# Built for linux/arm64 (Raspberry Pi 5) and linux/amd64:
#   docker buildx build --platform linux/arm64,linux/amd64 -t edgewarden:dev .

# --- build: compile TypeScript, then keep production dependencies only -------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /src
# better-sqlite3 compiles its native module here when no prebuilt binary matches.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json .npmrc ./
RUN ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY api api
COPY operator operator
COPY agent-runtime agent-runtime
COPY cli cli
COPY bin bin
COPY scripts scripts
COPY test/control-plane test/control-plane
RUN npm run build && npm prune --omit=dev \
    # onnxruntime-node ships binaries for every platform: keep this one's.
    && arch=$(node -p 'process.arch') \
    && find node_modules/onnxruntime-node/bin -mindepth 3 -maxdepth 3 -type d ! -path "*/linux/${arch}" -exec rm -rf {} +

# --- runtime: distroless Node.js, non-root, nothing but the app -------------------------------
FROM gcr.io/distroless/nodejs20-debian12:nonroot
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules node_modules
COPY --from=build /src/bin bin
COPY --from=build /src/dist/api dist/api
COPY --from=build /src/dist/agent-runtime dist/agent-runtime
COPY --from=build /src/dist/operator dist/operator
COPY --from=build /src/dist/cli dist/cli
# The real OpenWrt sample (MIT, with its licence) that `edgewarden demo` analyses.
COPY --from=build /src/agent-runtime/data agent-runtime/data
# The baseline models (npm run models): what agents serve until a site trains its own.
COPY models models
USER 65532:65532
ENTRYPOINT ["/nodejs/bin/node", "/app/bin/edgewarden.js"]
CMD ["--help"]
