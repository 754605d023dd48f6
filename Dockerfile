# syntax=docker/dockerfile:1
# The Ballast server image (docs/production.md, "Container image").
#   docker build -t ballast:0.1.0 .
#   docker run --rm -p 5000:5000 -v ballast-data:/var/lib/ballast ballast:0.1.0 keys create --name admin --role admin
#   docker run -d -p 5000:5000 -v ballast-data:/var/lib/ballast --read-only --tmpfs /tmp ballast:0.1.0
# Runs as the image's unprivileged "app" user (UID 1654), with a read-only root filesystem: it writes only to the
# data volume (/var/lib/ballast: SQLite, local artifacts, the prediction log's write-ahead files) and /tmp.

# --- build: restore on the project files alone (cached until a dependency changes), then publish -------------------
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY src/Ballast.Core/Ballast.Core.csproj src/Ballast.Core/
COPY src/Ballast.Server/Ballast.Server.csproj src/Ballast.Server/
COPY src/Ballast.Client/Ballast.Client.csproj src/Ballast.Client/
COPY src/Ballast.Cli/Ballast.Cli.csproj src/Ballast.Cli/
RUN dotnet restore src/Ballast.Cli/Ballast.Cli.csproj -r linux-x64
COPY src/ src/
# The same publish command that tests/Ballast.Server.Tests/Deploy/PublishedServerTests.cs runs and starts.
RUN dotnet publish src/Ballast.Cli/Ballast.Cli.csproj -c Release -r linux-x64 --self-contained false --no-restore -o /app

# --- runtime: ASP.NET Core runtime only ------------------------------------------------------------------------------
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
# LightGBM's native library needs the GNU OpenMP runtime; everything else the native libraries (ONNX Runtime, DuckDB,
# SQLite) need is in the base image.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1 \
 && rm -rf /var/lib/apt/lists/*
RUN mkdir -p /var/lib/ballast && chown "$APP_UID" /var/lib/ballast
WORKDIR /app
COPY --from=build /app ./
# A container limited to one CPU makes .NET wait 1 s, not 100 ms, before it counts calls for tier 1, and every method
# compiled meanwhile starts the wait again: under load Ballast then ran slower, instrumented code for ~50 s after a
# start instead of ~20 s (bench/serving/warmup.sh). The multiplier only applies on one processor.
ENV PATH="/app:${PATH}" \
    HOME=/tmp \
    DOTNET_EnableDiagnostics=0 \
    DOTNET_TC_DelaySingleProcMultiplier=1 \
    BALLAST_DATA_DIR=/var/lib/ballast \
    BALLAST_LISTEN=http://0.0.0.0:5000 \
    BALLAST_URL=http://127.0.0.1:5000 \
    BALLAST_LOG_FORMAT=json
USER $APP_UID
VOLUME ["/var/lib/ballast"]
EXPOSE 5000
# Liveness through the binary itself (the image has no curl): exit 0 when /health answers 2xx.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 CMD ["ballast", "health", "--timeout", "4"]
ENTRYPOINT ["ballast"]
CMD ["server"]
