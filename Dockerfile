# XTRACKER Webhooks: one image for the API, the worker and migrations (the command picks the role).
#   API (default):  node dist/src/main.js
#   worker:         node dist/src/worker.js
#   migrations:     node dist/src/migrate.js

# Node 24 is the active LTS (Node 20 reached end of life in April 2026).
FROM node:24-bookworm-slim AS build
WORKDIR /app
# Dependencies first, so a source change does not reinstall them.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# Compiles to dist/ and pre-bundles the workflow code, so workers start without bundling at boot.
RUN npm run build

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only: no compiler, test tools, embedded PostgreSQL or Temporal test server.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
# The application and its pre-bundled workflows; dist/dev (`npm run dev`'s embedded services) stays out.
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/contract ./dist/contract
COPY --from=build /app/dist/workflows ./dist/workflows
COPY --from=build /app/dist/activities ./dist/activities
COPY --from=build /app/dist/workflow-bundle.js ./dist/workflow-bundle.js
# The customer portal's page and assets (portal/build.mjs), served by the API at /portal.
COPY --from=build /app/dist/portal ./dist/portal
# The app only reads its files; running unprivileged limits what a compromise could change.
USER node
EXPOSE 3000
CMD ["node", "--enable-source-maps", "dist/src/main.js"]
