-- experiments/scenarios/three_attributes.lua: a small scenario set with three attributes per
-- scenario (the study's have five), the contexts of experiments/new-domain.lua. Same layout as
-- library.lua: {short_name=, question=, attributes = {{name=, units=, min=, max=}, ...}}.
local list = {}

local function scenario(short_name, question, attrs)
  local attributes = {}
  for i, a in ipairs(attrs) do attributes[i] = { name = a[1], units = a[2], min = a[3], max = a[4] } end
  list[#list + 1] = { short_name = short_name, question = question, attributes = attributes }
end

scenario("bike_commutes", "Which bike commute would you prefer?", {
  { "distance", "km", 2, 25 }, { "elevation_gain", "meters", 0, 400 }, { "protected_lanes_share", "percent", 0, 100 } })
scenario("job_offers", "Which job offer would you accept?", {
  { "salary", "dollars per year", 40000, 160000 }, { "commute_time", "minutes", 5, 90 },
  { "paid_vacation", "days per year", 10, 35 } })
scenario("rental_cars", "Which rental car would you book?", {
  { "daily_price", "dollars", 25, 150 }, { "fuel_economy", "km per liter", 8, 25 },
  { "trunk_volume", "liters", 200, 600 } })
scenario("coffee_shops", "Which coffee shop would you go to?", {
  { "walking_distance", "minutes", 1, 30 }, { "latte_price", "dollars", 2, 7 }, { "seating", "seats", 4, 80 } })
scenario("hiking_trails", "Which hiking trail would you choose?", {
  { "length", "km", 3, 30 }, { "elevation_gain", "meters", 50, 1500 }, { "rating", "stars", 1, 5 } })
scenario("phone_plans", "Which phone plan would you sign up for?", {
  { "monthly_price", "dollars", 10, 90 }, { "data_allowance", "GB", 1, 100 }, { "contract_length", "months", 0, 24 } })
scenario("gym_memberships", "Which gym membership would you buy?", {
  { "monthly_fee", "dollars", 10, 150 }, { "travel_time", "minutes", 2, 45 },
  { "classes_per_week", "classes", 0, 60 } })
scenario("flights", "Which flight would you book?", {
  { "ticket_price", "dollars", 80, 900 }, { "layovers", "stops", 0, 3 }, { "legroom", "cm", 70, 90 } })
scenario("restaurants", "Which restaurant would you book for dinner?", {
  { "price_per_person", "dollars", 15, 150 }, { "wait_time", "minutes", 0, 60 },
  { "review_score", "points out of 10", 5, 10 } })
scenario("laptops", "Which laptop would you buy?", {
  { "price", "dollars", 400, 3000 }, { "battery_life", "hours", 4, 20 }, { "weight", "kg", 0.9, 3 } })
scenario("apartments", "Which apartment would you rent?", {
  { "monthly_rent", "dollars", 700, 3500 }, { "floor_area", "square meters", 25, 120 },
  { "distance_to_center", "km", 0.5, 20 } })
scenario("concert_seats", "Which concert seat would you buy?", {
  { "ticket_price", "dollars", 30, 400 }, { "distance_to_stage", "meters", 5, 120 },
  { "view_quality", "points out of 10", 1, 10 } })
scenario("headphones", "Which headphones would you buy?", {
  { "price", "dollars", 20, 500 }, { "battery_life", "hours", 5, 60 }, { "weight", "grams", 100, 400 } })
scenario("hotels", "Which hotel would you book?", {
  { "nightly_rate", "dollars", 50, 450 }, { "distance_to_beach", "meters", 0, 3000 },
  { "guest_rating", "points out of 10", 5, 10 } })
scenario("internet_plans", "Which internet plan would you choose?", {
  { "monthly_price", "dollars", 20, 120 }, { "download_speed", "Mbps", 50, 2000 }, { "setup_fee", "dollars", 0, 200 } })
scenario("moving_companies", "Which moving company would you hire?", {
  { "quote", "dollars", 500, 5000 }, { "review_score", "stars", 1, 5 }, { "earliest_date", "days from now", 1, 60 } })

return list
