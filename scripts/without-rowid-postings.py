#!/usr/bin/env python3
"""Re-applies the one hand edit of the SQLite Initial migration after scripts/regen-migrations.sh: SearchPostings as a
WITHOUT ROWID table (EF cannot declare one). SqliteSearchTests.The_postings_table_is_clustered_by_its_key fails if the
edit is missing."""
import glob, re, sys

HAND_WRITTEN = '''            // HAND-EDITED after generation (scripts/without-rowid-postings.py re-applies it when Initial is regenerated).
            // EF cannot declare a WITHOUT ROWID table, so SearchPostings is created here by SQL, with exactly the columns
            // and key EF generated. Clustered by its key, the table is one B-tree fewer than a rowid table plus its key
            // index: about a third less to write per posting and less space, and search's key lookups read no second
            // structure. SqliteSearchTests.The_postings_table_is_clustered_by_its_key fails if the edit is lost.
            migrationBuilder.Sql("""
                CREATE TABLE "SearchPostings" (
                    "IndexId" INTEGER NOT NULL,
                    "TermHash" INTEGER NOT NULL,
                    "DocumentNumber" INTEGER NOT NULL,
                    "TermFrequency" INTEGER NOT NULL,
                    "DocumentLength" INTEGER NOT NULL,
                    "ImpactKey" INTEGER NOT NULL,
                    CONSTRAINT "PK_SearchPostings" PRIMARY KEY ("IndexId", "DocumentNumber", "TermHash")
                ) WITHOUT ROWID;
                """);
'''

[path] = [p for p in glob.glob('ResearchAssistant.Core/Data/Migrations/Sqlite/*_Initial.cs')]
text = open(path).read()
if 'WITHOUT ROWID' in text:
    sys.exit(0)
generated = re.compile(r'            migrationBuilder\.CreateTable\(\n                name: "SearchPostings",.*?\n                \}\);\n', re.S)
if not generated.search(text):
    sys.exit(f'{path}: no generated SearchPostings table to replace')
text = generated.sub(lambda _: HAND_WRITTEN, text, count=1)
for column in ('IndexId', 'TermHash', 'DocumentNumber', 'TermFrequency', 'DocumentLength', 'ImpactKey'):
    assert f'"{column}"' in HAND_WRITTEN
open(path, 'w').write(text)
print(f'{path}: SearchPostings created WITHOUT ROWID')
