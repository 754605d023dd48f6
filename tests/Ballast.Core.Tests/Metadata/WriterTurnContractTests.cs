using Ballast.Metadata;

namespace Ballast.Tests.Metadata;

public abstract class WriterTurnContractTests(DatabaseEngine engine) : DatabaseTest(engine)
{
    [Fact]
    public async Task A_writer_waits_for_the_turn_of_another_on_sqlite_and_never_on_postgres()
    {
        var first = await Database.WriterTurnAsync(Cancel);
        var second = Database.WriterTurnAsync(Cancel).AsTask();
        // SQLite has one writer at a time: the second waits (without a thread) until the first turn ends.
        second.IsCompleted.ShouldBe(Engine == DatabaseEngine.Postgres);
        first.Dispose();
        (await second).Dispose();

        using (Database.WriterTurn(Cancel))
        {
            using var cancelled = new CancellationTokenSource();
            var waiting = Database.WriterTurnAsync(cancelled.Token).AsTask();
            await cancelled.CancelAsync();
            if (Engine == DatabaseEngine.Postgres)
            {
                (await waiting).Dispose();
            }
            else
            {
                await Should.ThrowAsync<OperationCanceledException>(waiting);
            }
        }

        // The turn is free again.
        using var third = await Database.WriterTurnAsync(Cancel);
    }
}

public sealed class SqliteWriterTurnTests() : WriterTurnContractTests(DatabaseEngine.Sqlite);

public sealed class PostgresWriterTurnTests() : WriterTurnContractTests(DatabaseEngine.Postgres);
