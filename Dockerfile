# One image for every Node process in the repo; SERVICE picks the workspace to run.
#   docker build --build-arg SERVICE=services/gateway -t postwire/gateway .
FROM node:24-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json .npmrc ./
COPY packages ./packages
COPY services ./services
COPY infra/db ./infra/db
COPY infra/meta-sandbox ./infra/meta-sandbox
COPY infra/kafka/package.json ./infra/kafka/package.json
RUN npm ci --no-audit --no-fund --loglevel=error
ARG SERVICE
ENV SERVICE_DIR=${SERVICE}
USER node
CMD ["sh", "-c", "exec node \"$SERVICE_DIR/src/server.ts\""]
