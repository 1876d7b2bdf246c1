using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ResearchAssistant.Core.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class UnmergedSearchTerms : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<byte[]>(
                name: "UnmergedTerms",
                table: "SearchDocuments",
                type: "bytea",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_SearchDocuments_Unmerged",
                table: "SearchDocuments",
                columns: new[] { "IndexId", "Number" },
                filter: "\"UnmergedTerms\" IS NOT NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_SearchDocuments_Unmerged",
                table: "SearchDocuments");

            migrationBuilder.DropColumn(
                name: "UnmergedTerms",
                table: "SearchDocuments");
        }
    }
}
