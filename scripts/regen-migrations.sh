#!/usr/bin/env bash
# Regenerates the single Initial migration of each provider from the model. Only while the project is pre-release
# (no database anywhere holds user data yet): from the first release on, add migrations instead.
# The one hand-written part (SQLite's postings table WITHOUT ROWID) is re-applied at the end by without-rowid-postings.py.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dotnet tool restore >/dev/null
rm -rf ResearchAssistant.Core/Data/Migrations
export EfDesign=true
for provider in Sqlite Postgres; do
  dotnet ef migrations add Initial --project ResearchAssistant.Core --startup-project ResearchAssistant.Core \
    --context "${provider}AppDbContext" --output-dir "Data/Migrations/$provider" \
    --namespace "ResearchAssistant.Core.Data.Migrations.$provider" 2>&1 | tail -1
done
# The tool puts the model snapshots under the namespace's folders; they belong next to their migrations.
find ResearchAssistant.Core/ResearchAssistant -name "*Snapshot.cs" 2>/dev/null | while read -r snapshot; do
  mv "$snapshot" "ResearchAssistant.Core/Data/Migrations/$(basename "$(dirname "$snapshot")")/"
done
rm -rf ResearchAssistant.Core/ResearchAssistant
python3 scripts/without-rowid-postings.py
unset EfDesign
dotnet restore ResearchAssistant.Core >/dev/null
ls ResearchAssistant.Core/Data/Migrations/*
