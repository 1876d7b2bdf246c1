using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ResearchAssistant.Core.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class SearchIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_SessionEvents_SessionId_ParentId",
                table: "SessionEvents");

            migrationBuilder.DropIndex(
                name: "IX_SessionEvents_Status",
                table: "SessionEvents");

            migrationBuilder.AddColumn<byte[]>(
                name: "WrappedSearchKey",
                table: "UserKeys",
                type: "BLOB",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "SearchIndexes",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    UserId = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    DocumentCount = table.Column<long>(type: "INTEGER", nullable: false),
                    TotalLength = table.Column<long>(type: "INTEGER", nullable: false),
                    LastDocumentNumber = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_SearchIndexes", x => x.Id);
                    table.ForeignKey(
                        name: "FK_SearchIndexes_AspNetUsers_UserId",
                        column: x => x.UserId,
                        principalTable: "AspNetUsers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "SearchDocuments",
                columns: table => new
                {
                    IndexId = table.Column<int>(type: "INTEGER", nullable: false),
                    Number = table.Column<long>(type: "INTEGER", nullable: false),
                    EventId = table.Column<Guid>(type: "TEXT", nullable: false),
                    SessionId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Length = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_SearchDocuments", x => new { x.IndexId, x.Number });
                    table.ForeignKey(
                        name: "FK_SearchDocuments_ChatSessions_SessionId",
                        column: x => x.SessionId,
                        principalTable: "ChatSessions",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_SearchDocuments_SearchIndexes_IndexId",
                        column: x => x.IndexId,
                        principalTable: "SearchIndexes",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_SearchDocuments_SessionEvents_EventId",
                        column: x => x.EventId,
                        principalTable: "SessionEvents",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            // Hand-written: a WITHOUT ROWID table (EF cannot say so). Clustered by its key, the table is one B-tree fewer
            // than a rowid table plus its key index: about a third less to write per posting and less space, and the
            // key lookups of search read no second structure. A later EF migration that rebuilds this table would drop
            // WITHOUT ROWID: keep it when editing one.
            migrationBuilder.Sql("""
                CREATE TABLE "SearchPostings" (
                    "IndexId" INTEGER NOT NULL,
                    "TermHash" INTEGER NOT NULL,
                    "DocumentNumber" INTEGER NOT NULL,
                    "TermFrequency" INTEGER NOT NULL,
                    "DocumentLength" INTEGER NOT NULL,
                    "ImpactKey" INTEGER NOT NULL,
                    CONSTRAINT "PK_SearchPostings" PRIMARY KEY ("IndexId", "DocumentNumber", "TermHash"),
                    CONSTRAINT "FK_SearchPostings_SearchDocuments_IndexId_DocumentNumber" FOREIGN KEY ("IndexId", "DocumentNumber") REFERENCES "SearchDocuments" ("IndexId", "Number") ON DELETE CASCADE
                ) WITHOUT ROWID;
                """);

            migrationBuilder.CreateIndex(
                name: "IX_SessionEvents_SessionId_ParentId_Seq",
                table: "SessionEvents",
                columns: new[] { "SessionId", "ParentId", "Seq" });

            migrationBuilder.CreateIndex(
                name: "IX_SessionEvents_Status_SessionId_Seq",
                table: "SessionEvents",
                columns: new[] { "Status", "SessionId", "Seq" });

            migrationBuilder.CreateIndex(
                name: "IX_SearchDocuments_EventId",
                table: "SearchDocuments",
                column: "EventId",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_SearchDocuments_SessionId",
                table: "SearchDocuments",
                column: "SessionId");

            migrationBuilder.CreateIndex(
                name: "IX_SearchIndexes_UserId",
                table: "SearchIndexes",
                column: "UserId",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_SearchPostings_Term",
                table: "SearchPostings",
                columns: new[] { "IndexId", "TermHash", "ImpactKey", "DocumentNumber", "TermFrequency", "DocumentLength" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "SearchPostings");

            migrationBuilder.DropTable(
                name: "SearchDocuments");

            migrationBuilder.DropTable(
                name: "SearchIndexes");

            migrationBuilder.DropIndex(
                name: "IX_SessionEvents_SessionId_ParentId_Seq",
                table: "SessionEvents");

            migrationBuilder.DropIndex(
                name: "IX_SessionEvents_Status_SessionId_Seq",
                table: "SessionEvents");

            migrationBuilder.DropColumn(
                name: "WrappedSearchKey",
                table: "UserKeys");

            migrationBuilder.CreateIndex(
                name: "IX_SessionEvents_SessionId_ParentId",
                table: "SessionEvents",
                columns: new[] { "SessionId", "ParentId" });

            migrationBuilder.CreateIndex(
                name: "IX_SessionEvents_Status",
                table: "SessionEvents",
                column: "Status");
        }
    }
}
