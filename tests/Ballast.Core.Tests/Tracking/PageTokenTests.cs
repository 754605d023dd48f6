using System.Text.Json.Nodes;
using Ballast.Tracking;

namespace Ballast.Tests.Tracking;

/// <summary>
/// Page tokens tied to their query, as MLflow's logged-model search tokens (mlflow/store/tracking/sqlalchemy_store.py
/// <c>SearchLoggedModelsPaginationToken</c>: the parameters beside the offset, compared when the token comes back).
/// </summary>
public sealed class PageTokenTests
{
    private static PageTokenQuery Query(string? filter, params string[] experimentIds) => new PageTokenQuery()
        .With("experiment_ids", "Experiment IDs in the page token do not match the requested experiment IDs", new JsonArray([.. experimentIds.Select(id => JsonValue.Create(id))]))
        .With("filter_string", "Filter string in the page token does not match the requested filter string", filter is null ? null : JsonValue.Create(filter));

    [Fact]
    public void A_token_gives_its_offset_back_to_the_same_query()
    {
        var token = PageToken.Create(40, Query("name = 'a'", "1", "2"));

        PageToken.ParseOffset(token, Query("name = 'a'", "1", "2")).ShouldBe(40);
        PageToken.ParseOffset(null, Query(null, "1")).ShouldBe(0);
        PageToken.ParseOffset(token).ShouldBe(40, "the offset is where an untied search reads it");
    }

    [Fact]
    public void A_token_of_another_query_is_refused_naming_the_first_parameter_that_differs()
    {
        var token = PageToken.Create(40, Query(null, "1"));

        var ids = Should.Throw<TrackingException>(() => PageToken.ParseOffset(token, Query("x = 'y'", "2")));
        ids.Code.ShouldBe(TrackingException.InvalidParameterValue);
        ids.Message.ShouldBe("Experiment IDs in the page token do not match the requested experiment IDs. Expected: [\"2\"]. Found: [\"1\"]");
        Should.Throw<TrackingException>(() => PageToken.ParseOffset(token, Query("x = 'y'", "1"))).Message
            .ShouldBe("Filter string in the page token does not match the requested filter string. Expected: \"x = 'y'\". Found: null");
    }

    [Fact]
    public void An_untied_token_is_refused_by_a_tied_search_and_a_malformed_one_still_is_not_ours()
    {
        Should.Throw<TrackingException>(() => PageToken.ParseOffset(PageToken.Create(5), Query(null, "1"))).Message
            .ShouldBe("Experiment IDs in the page token do not match the requested experiment IDs. Expected: [\"1\"]. Found: null");
        Should.Throw<TrackingException>(() => PageToken.ParseOffset("not-a-token", Query(null, "1"))).Message.ShouldContain("it was not issued by this server");
        // {"offset": 1, "offset": 2}: a duplicate key is malformed, not a 500.
        Should.Throw<TrackingException>(() => PageToken.ParseOffset("eyJvZmZzZXQiOiAxLCAib2Zmc2V0IjogMn0=", Query(null, "1"))).Message.ShouldContain("it was not issued by this server");
    }
}
