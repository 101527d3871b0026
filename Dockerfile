# Multi-stage build of the gateway on the official .NET images.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY Gateway.sln ./
COPY Gateway.Actors/Gateway.Actors.csproj Gateway.Actors/
COPY Gateway.Host/Gateway.Host.csproj Gateway.Host/
COPY Gateway.Tests/Gateway.Tests.csproj Gateway.Tests/
RUN dotnet restore Gateway.Host/Gateway.Host.csproj
COPY Gateway.Actors/ Gateway.Actors/
COPY Gateway.Host/ Gateway.Host/
RUN dotnet publish Gateway.Host/Gateway.Host.csproj -c Release -o /app --no-restore

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app ./
COPY hocon/ /etc/gateway/
EXPOSE 8080 9696
ENTRYPOINT ["dotnet", "Gateway.Host.dll"]
CMD ["--config", "/etc/gateway/gateway.conf"]
