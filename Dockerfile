# One image per service: docker build --build-arg SERVICE=ingest . (ingest, worker, api)
FROM node:22-bookworm-slim
ARG SERVICE=ingest
ENV NODE_ENV=production SERVICE=${SERVICE}
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY scripts/check-node.mjs scripts/
COPY packages/config/package.json packages/config/
COPY packages/logging/package.json packages/logging/
COPY packages/db/package.json packages/db/
COPY packages/events/package.json packages/events/
COPY packages/kafka/package.json packages/kafka/
COPY packages/queue/package.json packages/queue/
COPY packages/domain/package.json packages/domain/
COPY packages/engine/package.json packages/engine/
COPY packages/pipeline/package.json packages/pipeline/
COPY packages/telemetry/package.json packages/telemetry/
COPY packages/testkit/package.json packages/testkit/
COPY services/ingest/package.json services/ingest/
COPY services/worker/package.json services/worker/
COPY services/api/package.json services/api/
COPY test/package.json test/
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json tsconfig.json ./
COPY packages packages
COPY services services
USER node
# tsx runs the TypeScript sources as they are (no separate build output to drift from them).
CMD ["sh", "-c", "exec node --import tsx services/${SERVICE}/src/main.ts"]
