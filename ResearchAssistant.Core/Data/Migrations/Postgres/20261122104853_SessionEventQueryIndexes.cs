using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ResearchAssistant.Core.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class SessionEventQueryIndexes : Migration
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

            migrationBuilder.CreateIndex(
                name: "IX_SessionEvents_SessionId_ParentId_Seq",
                table: "SessionEvents",
                columns: new[] { "SessionId", "ParentId", "Seq" });

            migrationBuilder.CreateIndex(
                name: "IX_SessionEvents_Status_SessionId_Seq",
                table: "SessionEvents",
                columns: new[] { "Status", "SessionId", "Seq" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_SessionEvents_SessionId_ParentId_Seq",
                table: "SessionEvents");

            migrationBuilder.DropIndex(
                name: "IX_SessionEvents_Status_SessionId_Seq",
                table: "SessionEvents");

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
