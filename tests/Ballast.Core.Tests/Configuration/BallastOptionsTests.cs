using Ballast.Configuration;

namespace Ballast.Tests.Configuration;

public sealed class BallastOptionsTests
{
    [Fact]
    public void Printed_options_mask_the_database_password_and_the_data_protection_key()
    {
        var options = new BallastOptions
        {
            Database = "postgres://ballast:s3cret-pw@db:5432/ballast",
            OnlineStore = "redis://user:redis-pw@cache:6379/0",
            DataProtectionKey = "a-data-protection-key-of-at-least-32-chars",
        };

        var printed = options.ToString();
        printed.ShouldContain("Database = postgres://ballast:***@db:5432/ballast");
        printed.ShouldContain("DataProtectionKey = ***");
        printed.ShouldNotContain("s3cret-pw");
        printed.ShouldNotContain("redis-pw");
        printed.ShouldNotContain("a-data-protection-key");
    }
}
